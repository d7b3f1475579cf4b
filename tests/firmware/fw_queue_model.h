/* SPDX-License-Identifier: MIT */
/*
 * The device's side of the firmware's queue registers, on top of fw_mock:
 * SQs of struct mtia_cmd per queue, Q_PENDING (enabled, not stopped, SQ not
 * empty), the one fetch latch behind CC_SQE and Q_FETCH_STATUS (ABORTED for
 * a disabled or empty queue, a scripted ring DMA error that stops the
 * queue), Q_DISPATCH/Q_COMPLETE recorded as events with the command they
 * name, Q_SELECT/Q_PRIO/Q_INFLIGHT, Q_STATUS, and engine work that the test
 * completes by hand (ENGINE_EVENT when a queue's in-flight count falls to
 * 0). A Q_DISPATCH or Q_COMPLETE without the matching fetch, or a fetch of
 * a queue number >= MTIA_NUM_QUEUES, is a protocol error (fw_mock_fail), as
 * the device core refuses them (qemu-device/core/mtia_queues.cc).
 */
#ifndef MTIA_FW_QUEUE_MODEL_H
#define MTIA_FW_QUEUE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "mtia/mtia_spec.h"

#define FWQ_DEPTH 1024u /* SQ entries per queue */
#define FWQ_MAX_EVENTS 16384u

enum fwq_kind { FWQ_COMPLETE = 1, FWQ_DISPATCH = 2 };

struct fwq_event {
    enum fwq_kind kind;
    unsigned q;
    uint32_t status; /* FWQ_COMPLETE: the status the firmware gave */
    struct mtia_cmd cmd;
};

/* Reset the model (queues disabled and empty, no events) and hook it into
 * fw_mock (after fw_mock_reset). */
void fwq_install(void);

void fwq_enable(unsigned q, unsigned prio);
void fwq_disable(unsigned q);
void fwq_set_prio(unsigned q, unsigned prio);
void fwq_push(unsigned q, const struct mtia_cmd *c);
/* The next fetch of q fails reading the ring: the device stops q. */
void fwq_fail_next_fetch(unsigned q);
/* n of q's engine commands finish (ENGINE_EVENT bit q when none are left). */
void fwq_engine_done(unsigned q, unsigned n);

unsigned fwq_waiting(unsigned q); /* commands not fetched yet */
unsigned fwq_inflight(unsigned q);
unsigned fwq_fetches(unsigned q);      /* successful fetches */
unsigned fwq_fetch_errors(unsigned q); /* ring DMA errors (fwq_fail_next_fetch) */
int fwq_stopped(unsigned q);           /* by a ring DMA error, until fwq_enable */
size_t fwq_events(void);
const struct fwq_event *fwq_event_at(size_t i);
/* Events of queue q, in order, into out[max]; returns how many there were. */
size_t fwq_events_of(unsigned q, const struct fwq_event **out, size_t max);
void fwq_clear_events(void);
/* fn(event index) after each event is recorded (NULL: none): a test's
 * device acting in the middle of a burst. */
void fwq_on_event(void (*fn)(size_t i));

#endif /* MTIA_FW_QUEUE_MODEL_H */
