#include "CImageCodecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PNG decoding through libpng's progressive-free "low-level" API. libpng reports errors through a
   callback that must not return; longjmp is the documented way out and Swift cannot do it, hence C.
   The simplified API (png_image_*) is not used for reading because it gamma-corrects: it treats
   16-bit files as linear light and converts them to sRGB, and applies gAMA chunks, while PIL (and so
   torchvision) ignores gAMA and keeps the high byte of 16-bit samples. */

struct interp_png_source {
    const unsigned char *data;
    size_t size;
    size_t offset;
};

struct interp_png_context {
    jmp_buf escape;
    char *message;
};

static void interp_png_error(png_structp png, png_const_charp text) {
    struct interp_png_context *context = (struct interp_png_context *)png_get_error_ptr(png);
    snprintf(context->message, INTERP_CODEC_MESSAGE_SIZE, "%s", text);
    longjmp(context->escape, 1);
}

/* Warnings (bad ancillary chunks, unknown chunks, extra data) are tolerated, as PIL tolerates them. */
static void interp_png_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void interp_png_read(png_structp png, png_bytep out, png_size_t count) {
    struct interp_png_source *source = (struct interp_png_source *)png_get_io_ptr(png);
    if (count > source->size - source->offset) {
        png_error(png, "file is truncated");
    }
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

int interp_png_decode(const unsigned char *data, size_t size, unsigned char **pixels,
                      int *width, int *height, int *channels, char *message) {
    struct interp_png_source source = {data, size, 0};
    struct interp_png_context context;
    png_structp png = NULL;
    png_infop info = NULL;
    unsigned char *volatile buffer = NULL;
    png_bytep *volatile rows = NULL;
    *pixels = NULL;
    context.message = message;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "bad PNG signature");
        return 1;
    }
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, interp_png_error, interp_png_warning);
    if (png == NULL) {
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "out of memory");
        return 1;
    }
    info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "out of memory");
        return 1;
    }
    if (setjmp(context.escape)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        free(buffer);
        return 1;
    }
    png_set_read_fn(png, &source, interp_png_read);
    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int depth = 0, color = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    if (w == 0 || h == 0 || (double)w * (double)h > (double)INTERP_MAX_PIXELS) {
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "implausible image size %ux%u (more than %d pixels)",
                 (unsigned)w, (unsigned)h, INTERP_MAX_PIXELS);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    /* What PIL's convert("L" / "RGB" / "RGBA") of the opened file gives:
       palette -> RGB, or RGBA where a tRNS chunk gives the entries alpha; 1/2/4-bit gray scaled to
       0-255 (x255, x85, x17); 16-bit samples -> their high byte; gray+alpha -> RGBA (gray
       replicated). A tRNS colour key on gray or RGB images is ignored, as convert("RGB") ignores it. */
    if (color == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png);
    }
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (depth == 16) {
        png_set_strip_16(png);
    }
    if (color == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int out_channels = png_get_channels(png, info);
    size_t stride = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != 8 || (out_channels != 1 && out_channels != 3 && out_channels != 4) ||
        stride != (size_t)w * (size_t)out_channels) {
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "unsupported PNG layout (colour type %d, %d bits)", color, depth);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    buffer = malloc(stride * h);
    rows = malloc(sizeof(png_bytep) * h);
    if (buffer == NULL || rows == NULL) {
        snprintf(message, INTERP_CODEC_MESSAGE_SIZE, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        free(buffer);
        return 1;
    }
    for (png_uint_32 y = 0; y < h; y++) {
        rows[y] = buffer + stride * y;
    }
    png_read_image(png, rows);
    /* The chunks after the image data (and IEND) are not read: PIL stops there too, so a file cut
       after its last image byte still opens in both. */
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    *width = (int)w;
    *height = (int)h;
    *channels = out_channels;
    *pixels = buffer;
    return 0;
}
