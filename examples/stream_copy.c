/* SPDX-License-Identifier: MIT */
/*
 * stream_copy: host -> device -> host through a stream, timed with events.
 * Work queued on a stream runs in order; an event recorded on it completes
 * when the work before it has, and mtia_event_elapsed_ms() gives the device
 * time between two events. Failures on the device surface at the wait.
 *
 *   cc stream_copy.c $(pkg-config --cflags --libs mtia) -o stream_copy
 *   ./stream_copy [device-index] [MiB]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mtia/mtia.h>

#define CHECK(call)                                                                      \
    do {                                                                                 \
        mtia_status st_ = (call);                                                        \
        if (st_ != MTIA_SUCCESS) {                                                       \
            fprintf(stderr, "%s: %s (%s)\n", #call, mtia_status_name(st_), mtia_last_error()); \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

int main(int argc, char **argv)
{
    int index = argc > 1 ? atoi(argv[1]) : 0;
    size_t size = (size_t)(argc > 2 ? atoi(argv[2]) : 16) << 20;
    mtia_device *dev;
    mtia_buffer *src, *dst, *devbuf;
    mtia_stream *stream;
    mtia_event *start, *end;
    unsigned char *in, *out;
    double ms = 0;

    CHECK(mtia_device_open(index, &dev));
    /* Host buffers are mappable; device buffers live in device memory. */
    CHECK(mtia_buffer_create(dev, size, MTIA_PLACEMENT_HOST, &src));
    CHECK(mtia_buffer_create(dev, size, MTIA_PLACEMENT_HOST, &dst));
    CHECK(mtia_buffer_create(dev, size, MTIA_PLACEMENT_DEVICE, &devbuf));
    CHECK(mtia_buffer_map(src, (void **)&in));
    CHECK(mtia_buffer_map(dst, (void **)&out));
    for (size_t i = 0; i < size; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    memset(out, 0, size);

    CHECK(mtia_stream_create(dev, MTIA_PRIORITY_NORMAL, &stream));
    CHECK(mtia_event_create(dev, &start));
    CHECK(mtia_event_create(dev, &end));
    CHECK(mtia_stream_record(stream, start));
    CHECK(mtia_stream_copy(stream, devbuf, 0, src, 0, size)); /* host -> device */
    CHECK(mtia_stream_copy(stream, dst, 0, devbuf, 0, size)); /* device -> host */
    CHECK(mtia_stream_record(stream, end));
    CHECK(mtia_event_wait(end, -1)); /* the copies are done once end is */
    CHECK(mtia_event_elapsed_ms(start, end, &ms));

    if (memcmp(in, out, size) != 0) {
        fprintf(stderr, "stream_copy: data differs after the round trip\n");
        return 1;
    }
    printf("stream_copy: %zu MiB host->device->host OK, %.3f ms device time (%.2f GB/s)\n", size >> 20, ms,
           ms > 0 ? 2.0 * size / (ms * 1e6) : 0.0);

    mtia_event_destroy(start);
    mtia_event_destroy(end);
    CHECK(mtia_stream_destroy(stream)); /* waits for the stream's work */
    mtia_buffer_free(src);
    mtia_buffer_free(dst);
    mtia_buffer_free(devbuf);
    CHECK(mtia_device_close(dev));
    return 0;
}
