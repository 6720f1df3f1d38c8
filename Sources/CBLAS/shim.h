// OpenBLAS's CBLAS interface and LAPACKE, as packaged by Debian.
#include <cblas.h>
#include <lapacke.h>
