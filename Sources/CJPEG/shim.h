// jpeglib.h needs stdio's FILE and size_t declared first.
#include <stdio.h>
#include <stddef.h>
#include <jpeglib.h>
