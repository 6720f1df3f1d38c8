// JPEG decoding and encoding through libjpeg with errors returned as codes. libjpeg reports errors
// by calling error_exit, which must not return; the only safe way out is longjmp, which Swift
// cannot do, so these few functions wrap libjpeg in C.
#ifndef INTERP_IMAGE_CODECS_H
#define INTERP_IMAGE_CODECS_H

#include <stddef.h>

#define INTERP_CODEC_MESSAGE_SIZE 200

/// Decodes a JPEG held in memory into 8-bit gray (1 channel) or RGB (3 channels), row-major.
/// Returns 0 on success with *pixels owned by the caller (release with interp_codec_free); on
/// failure returns non-zero and writes a one-line reason into message.
int interp_jpeg_decode(const unsigned char *data, size_t size, unsigned char **pixels,
                       int *width, int *height, int *channels, char *message);

/// Encodes 8-bit gray or RGB pixels as a baseline JPEG of the given quality (1-100).
int interp_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                       unsigned char **output, size_t *output_size, char *message);

void interp_codec_free(void *pointer);

#endif
