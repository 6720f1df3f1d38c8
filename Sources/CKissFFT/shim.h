#ifndef INTERP_CKISSFFT_SHIM_H
#define INTERP_CKISSFFT_SHIM_H
#ifndef kiss_fft_scalar
#define kiss_fft_scalar float
#endif
#ifndef KISS_FFT_SHARED
#define KISS_FFT_SHARED
#endif
#include <kissfft/kiss_fft.h>
#include <kissfft/kiss_fftr.h>
#endif
