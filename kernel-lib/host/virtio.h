/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-mmio transport of the host library: register windows, feature
 * negotiation, split virtqueues and interrupts, shared by the device models
 * (virtio_net.c, virtio_blk.c). Internal to kernel-lib/host.
 */
#ifndef SKL_HOST_VIRTIO_H
#define SKL_HOST_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define VIRTIO_MMIO_WINDOW 0x1000
#define VIRTIO_MAX_QUEUES 2
#define VIRTIO_QUEUE_MAX 256

#define VIRTIO_F_VERSION_1 32
#define VIRTIO_RING_F_EVENT_IDX 29

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtio_queue {
	uint32_t num;
	bool ready;
	uint64_t desc_addr, avail_addr, used_addr;
	/* Host views of the rings, set when the driver marks the queue ready.
	 */
	struct vring_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[num], used_event */
	volatile uint16_t *used; /* flags, idx, then elems; avail_event after */
	uint16_t last_avail; /* next avail entry the device takes */
	uint16_t used_idx; /* next used entry the device writes */
};

struct virtio_dev;

struct virtio_dev_ops {
	/* A driver wrote QueueNotify for queue q. Runs on the thread that holds
	 * the kernel's CPU. */
	void (*notify)(struct virtio_dev *dev, unsigned int q);
	/* Read size bytes of the device config space at offset into val. */
	void (*config_read)(struct virtio_dev *dev, unsigned int offset,
			    void *val, int size);
	/* The driver reset the device (status 0), or set DRIVER_OK. */
	void (*status_changed)(struct virtio_dev *dev, uint32_t status);
};

struct virtio_dev {
	uint32_t device_id;
	uint64_t features; /* offered */
	uint64_t driver_features; /* accepted */
	uint32_t device_features_sel, driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t interrupt_status; /* host atomics: set by device threads */
	int irq;
	unsigned long base; /* window address */
	unsigned int nqueues;
	struct virtio_queue queues[VIRTIO_MAX_QUEUES];
	pthread_mutex_t
		lock; /* guards the transport state against device threads */
	const struct virtio_dev_ops *ops;
};

/* One request taken from a queue: its descriptor chain as host iovecs. */
struct virtio_req {
	uint16_t head;
	unsigned int nout, nin; /* readable (driver to device) iovecs first,
				   then writable */
	struct iovec iov[132];
	size_t in_len; /* bytes of writable space */
};

/* Register dev (device_id, features, nqueues, ops set) in a free window with
 * a free IRQ. Returns 0 or -errno (message in err). */
int virtio_dev_register(struct virtio_dev *dev, char *err, size_t errlen);
void virtio_dev_unregister(struct virtio_dev *dev);

/* The "virtio_mmio.device=..." kernel parameters of every registered device. */
int virtio_cmdline(char *buf, size_t len);

/* Take the next available request of queue q; false when there is none or
 * the chain is malformed (then it is returned to the driver as used, 0). */
bool virtio_queue_pop(struct virtio_dev *dev, unsigned int q,
		      struct virtio_req *req);
/* Is a request available on queue q (without taking it)? */
bool virtio_queue_has_avail(struct virtio_dev *dev, unsigned int q);
/* Hand a request back with len bytes written; does not interrupt. */
void virtio_queue_push(struct virtio_dev *dev, unsigned int q, uint16_t head,
		       uint32_t len);
/* Interrupt the driver for used buffers of queue q, unless it asked not to. */
void virtio_queue_interrupt(struct virtio_dev *dev, unsigned int q);
/* Ask the driver (not) to notify us on queue q. */
void virtio_queue_set_notify(struct virtio_dev *dev, unsigned int q, bool want);

/* Host pointer for len bytes of kernel "physical" memory, NULL if outside RAM.
 */
void *virtio_phys_to_host(uint64_t phys, uint64_t len);

#include "kernel-lib/host/host.h"

#endif
