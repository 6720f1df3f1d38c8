// PNG and JPEG decoding (and JPEG encoding) through libpng and libjpeg with errors returned as
// codes. Both libraries report errors by calling a handler that must not return; the only safe way
// out is longjmp, which Swift cannot do, so these few functions wrap the libraries in C.
#ifndef INTERP_IMAGE_CODECS_H
#define INTERP_IMAGE_CODECS_H

#include <stddef.h>

#define INTERP_CODEC_MESSAGE_SIZE 200

/// Images larger than this are refused before any pixel memory is allocated: twice PIL's
/// MAX_IMAGE_PIXELS, where PIL raises DecompressionBombError, so a tiny file cannot claim gigabytes.
#define INTERP_MAX_PIXELS 178956970

/// Decodes a PNG held in memory into 8-bit gray (1 channel), RGB (3) or RGBA (4), row-major, as
/// PIL's convert("L"/"RGB"/"RGBA") of the opened file gives them (no gamma correction, 16-bit
/// samples reduced to their high byte). Returns 0 on success with *pixels owned by the caller
/// (release with interp_codec_free); on failure returns non-zero and writes a one-line reason
/// into message (INTERP_CODEC_MESSAGE_SIZE bytes).
int interp_png_decode(const unsigned char *data, size_t size, unsigned char **pixels,
                      int *width, int *height, int *channels, char *message);

/// Decodes a JPEG held in memory into 8-bit gray (1 channel) or RGB (3 channels), row-major, with
/// libjpeg's defaults as PIL uses them (islow IDCT, fancy upsampling); CMYK/YCCK files are converted
/// to RGB with PIL's formula. Ownership and errors as interp_png_decode.
int interp_jpeg_decode(const unsigned char *data, size_t size, unsigned char **pixels,
                       int *width, int *height, int *channels, char *message);

/// Encodes 8-bit gray or RGB pixels as a baseline JPEG of the given quality (1-100), 4:2:0
/// chroma subsampling for colour (libjpeg's and PIL's default).
int interp_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                       unsigned char **output, size_t *output_size, char *message);

void interp_codec_free(void *pointer);

#endif
