#include "CImageCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

struct interp_error_manager {
    struct jpeg_error_mgr base;
    jmp_buf escape;
    char *message;
};

static void interp_error_exit(j_common_ptr info) {
    struct interp_error_manager *manager = (struct interp_error_manager *)info->err;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    snprintf(manager->message, INTERP_CODEC_MESSAGE_SIZE, "%s", text);
    longjmp(manager->escape, 1);
}

/* libjpeg pads a truncated file with grey and only warns; that is turned into an error so a
   truncated file is reported, not silently decoded. Other warnings are tolerated, as PIL does. */
static void interp_emit_message(j_common_ptr info, int level) {
    if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) {
        interp_error_exit(info);
    }
}

/* PIL opens CMYK and YCCK JPEGs as inverted ("Adobe") CMYK and converts them to RGB per channel as
   nk - nk*c/255 with nk = 255 - k and its rounded integer division by 255; the same here, on the
   stored (inverted) samples. */
static void interp_cmyk_row_to_rgb(const unsigned char *in, unsigned char *out, unsigned width) {
    for (unsigned x = 0; x < width; x++, in += 4, out += 3) {
        int nk = in[3];                 /* 255 - k, k being the inverted stored value */
        for (int i = 0; i < 3; i++) {
            int c = 255 - in[i];
            int t = c * nk + 128;
            int v = nk - (((t >> 8) + t) >> 8);
            out[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

int interp_jpeg_decode(const unsigned char *data, size_t size, unsigned char **pixels,
                       int *width, int *height, int *channels, char *message) {
    struct jpeg_decompress_struct info;
    struct interp_error_manager errors;
    unsigned char *volatile buffer = NULL;
    unsigned char *volatile cmyk_row = NULL;
    *pixels = NULL;
    info.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = interp_error_exit;
    errors.base.emit_message = interp_emit_message;
    errors.message = message;
    if (setjmp(errors.escape)) {
        jpeg_destroy_decompress(&info);
        free(buffer);
        free(cmyk_row);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    if (info.image_width == 0 || info.image_height == 0 ||
        (double)info.image_width * (double)info.image_height > (double)INTERP_MAX_PIXELS) {
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "implausible image size %ux%u (more than %d pixels)",
                 info.image_width, info.image_height, INTERP_MAX_PIXELS);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    int cmyk = 0;
    if (info.num_components == 1) {
        info.out_color_space = JCS_GRAYSCALE;
    } else if (info.num_components == 4 && (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK)) {
        info.out_color_space = JCS_CMYK;
        cmyk = 1;
    } else if (info.num_components == 3) {
        info.out_color_space = JCS_RGB;
    } else {
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "unsupported JPEG with %d components", info.num_components);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    jpeg_start_decompress(&info);
    int out_channels = cmyk ? 3 : info.output_components;
    size_t stride = (size_t)info.output_width * (size_t)out_channels;
    buffer = malloc(stride * info.output_height);
    if (cmyk) {
        cmyk_row = malloc((size_t)info.output_width * 4);
    }
    if (buffer == NULL || (cmyk && cmyk_row == NULL)) {
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "out of memory for %ux%u pixels", info.output_width, info.output_height);
        jpeg_destroy_decompress(&info);
        free(buffer);
        free(cmyk_row);
        return 1;
    }
    while (info.output_scanline < info.output_height) {
        unsigned char *row = buffer + stride * info.output_scanline;
        if (cmyk) {
            unsigned char *in = cmyk_row;
            if (jpeg_read_scanlines(&info, &in, 1) == 1) {
                interp_cmyk_row_to_rgb(in, row, info.output_width);
            }
        } else {
            jpeg_read_scanlines(&info, &row, 1);
        }
    }
    jpeg_finish_decompress(&info);
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    *channels = out_channels;
    jpeg_destroy_decompress(&info);
    free(cmyk_row);
    *pixels = buffer;
    return 0;
}

int interp_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                       unsigned char **output, size_t *output_size, char *message) {
    struct jpeg_compress_struct info;
    struct interp_error_manager errors;
    unsigned char *volatile buffer = NULL;
    unsigned long buffer_size = 0;
    *output = NULL;
    if (channels != 1 && channels != 3) {
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "JPEG needs 1 or 3 channels, got %d", channels);
        return 1;
    }
    info.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = interp_error_exit;
    errors.message = message;
    if (setjmp(errors.escape)) {
        jpeg_destroy_compress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, (unsigned char **)&buffer, &buffer_size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = channels;
    info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)info.next_scanline * (size_t)width * (size_t)channels);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    *output = buffer;
    *output_size = buffer_size;
    return 0;
}

void interp_codec_free(void *pointer) { free(pointer); }
