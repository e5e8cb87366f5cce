// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio (version 2) emulated by the host library. Each device owns one
 * 4 KiB register window at SKL_IOMEM_BASE + n * 4 KiB and one IRQ, and is
 * announced to the kernel as a "virtio_mmio.device=" parameter, so the
 * stock virtio-mmio driver finds it at boot. Queue addresses and buffers the
 * driver hands over are kernel "physical" addresses: offsets into the RAM
 * block, which virtio_phys_to_host bounds-checks and translates.
 *
 * Register accesses come from the thread holding the kernel's CPU; device
 * threads (the network poller) touch queues and the interrupt status too,
 * so the transport state is guarded by the device's mutex and the rings
 * follow the virtio memory-ordering rules.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <skl.h>

#include "kernel-lib/host/virtio.h"

#define MAX_DEVICES 32

enum {
	REG_MAGIC = 0x000,
	REG_VERSION = 0x004,
	REG_DEVICE_ID = 0x008,
	REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010,
	REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020,
	REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030,
	REG_QUEUE_NUM_MAX = 0x034,
	REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044,
	REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060,
	REG_INTERRUPT_ACK = 0x064,
	REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080,
	REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_AVAIL_LOW = 0x090,
	REG_QUEUE_AVAIL_HIGH = 0x094,
	REG_QUEUE_USED_LOW = 0x0a0,
	REG_QUEUE_USED_HIGH = 0x0a4,
	REG_CONFIG_GENERATION = 0x0fc,
	REG_CONFIG = 0x100,
};

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define VIRTIO_VENDOR 0x4c4b5348 /* "SHKL" */
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

static struct virtio_dev *devices[MAX_DEVICES];
static pthread_mutex_t devices_lock = PTHREAD_MUTEX_INITIALIZER;

void *virtio_phys_to_host(uint64_t phys, uint64_t len)
{
	void *base;
	unsigned long size;

	host_ram_bounds(&base, &size);
	if (!base || phys >= size || len > size - phys)
		return NULL;
	return (char *)base + phys;
}

int virtio_dev_register(struct virtio_dev *dev, char *err, size_t errlen)
{
	int slot, irq;

	pthread_mutex_lock(&devices_lock);
	for (slot = 0; slot < MAX_DEVICES && devices[slot]; slot++)
		;
	if (slot == MAX_DEVICES) {
		pthread_mutex_unlock(&devices_lock);
		snprintf(err, errlen, "too many virtio devices (at most %d)",
			 MAX_DEVICES);
		return -ENOSPC;
	}
	irq = skl_get_free_irq("virtio");
	if (irq < 0) {
		pthread_mutex_unlock(&devices_lock);
		snprintf(err, errlen, "no free IRQ for a virtio device");
		return irq;
	}
	pthread_mutex_init(&dev->lock, NULL);
	dev->irq = irq;
	dev->base = SKL_IOMEM_BASE + (unsigned long)slot * VIRTIO_MMIO_WINDOW;
	dev->features |= 1ULL << VIRTIO_F_VERSION_1;
	devices[slot] = dev;
	pthread_mutex_unlock(&devices_lock);
	return 0;
}

void virtio_dev_unregister(struct virtio_dev *dev)
{
	int slot;

	pthread_mutex_lock(&devices_lock);
	for (slot = 0; slot < MAX_DEVICES; slot++)
		if (devices[slot] == dev)
			devices[slot] = NULL;
	pthread_mutex_unlock(&devices_lock);
	skl_put_irq(dev->irq);
	pthread_mutex_destroy(&dev->lock);
}

int virtio_cmdline(char *buf, size_t len)
{
	size_t used = 0;
	int slot, n;

	buf[0] = 0;
	pthread_mutex_lock(&devices_lock);
	for (slot = 0; slot < MAX_DEVICES; slot++) {
		if (!devices[slot])
			continue;
		n = snprintf(buf + used, len - used,
			     " virtio_mmio.device=%d@0x%lx:%d",
			     VIRTIO_MMIO_WINDOW, devices[slot]->base,
			     devices[slot]->irq);
		if (n < 0 || (size_t)n >= len - used) {
			pthread_mutex_unlock(&devices_lock);
			return -E2BIG;
		}
		used += (size_t)n;
	}
	pthread_mutex_unlock(&devices_lock);
	return 0;
}

static struct virtio_dev *device_at(unsigned long addr)
{
	unsigned long slot = (addr - SKL_IOMEM_BASE) / VIRTIO_MMIO_WINDOW;

	if (addr < SKL_IOMEM_BASE || slot >= MAX_DEVICES)
		return NULL;
	return devices[slot];
}

/* Map a queue's rings once the driver says it is ready. */
static int queue_map(struct virtio_queue *vq)
{
	size_t desc_len = 16UL * vq->num;
	size_t avail_len = 6 + 2UL * vq->num;
	size_t used_len = 6 + 8UL * vq->num;

	if (!vq->num || vq->num > VIRTIO_QUEUE_MAX || (vq->num & (vq->num - 1)))
		return -EINVAL;
	vq->desc = virtio_phys_to_host(vq->desc_addr, desc_len);
	vq->avail = virtio_phys_to_host(vq->avail_addr, avail_len);
	vq->used = virtio_phys_to_host(vq->used_addr, used_len);
	if (!vq->desc || !vq->avail || !vq->used)
		return -EFAULT;
	vq->last_avail = 0;
	vq->used_idx = 0;
	return 0;
}

static void device_reset(struct virtio_dev *dev)
{
	unsigned int q;

	dev->status = 0;
	dev->driver_features = 0;
	dev->queue_sel = 0;
	__atomic_store_n(&dev->interrupt_status, 0, __ATOMIC_RELEASE);
	for (q = 0; q < dev->nqueues; q++) {
		struct virtio_queue *vq = &dev->queues[q];

		memset(vq, 0, sizeof(*vq));
	}
}

static uint32_t reg_read(struct virtio_dev *dev, unsigned int off)
{
	struct virtio_queue *vq = dev->queue_sel < dev->nqueues
					  ? &dev->queues[dev->queue_sel]
					  : NULL;

	switch (off) {
	case REG_MAGIC:
		return VIRTIO_MMIO_MAGIC;
	case REG_VERSION:
		return 2;
	case REG_DEVICE_ID:
		return dev->device_id;
	case REG_VENDOR_ID:
		return VIRTIO_VENDOR;
	case REG_DEVICE_FEATURES:
		return dev->device_features_sel > 1
			       ? 0
			       : (uint32_t)(dev->features >>
					    (32 * dev->device_features_sel));
	case REG_QUEUE_NUM_MAX:
		return vq ? VIRTIO_QUEUE_MAX : 0;
	case REG_QUEUE_READY:
		return vq ? vq->ready : 0;
	case REG_INTERRUPT_STATUS:
		return __atomic_load_n(&dev->interrupt_status,
				       __ATOMIC_ACQUIRE);
	case REG_STATUS:
		return dev->status;
	case REG_CONFIG_GENERATION:
		return 0;
	default:
		return 0;
	}
}

static void reg_write(struct virtio_dev *dev, unsigned int off, uint32_t val)
{
	struct virtio_queue *vq = dev->queue_sel < dev->nqueues
					  ? &dev->queues[dev->queue_sel]
					  : NULL;

	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		dev->device_features_sel = val;
		break;
	case REG_DRIVER_FEATURES_SEL:
		dev->driver_features_sel = val;
		break;
	case REG_DRIVER_FEATURES:
		if (dev->driver_features_sel < 2) {
			unsigned int shift = 32 * dev->driver_features_sel;

			dev->driver_features &= ~(0xffffffffULL << shift);
			dev->driver_features |= (uint64_t)val << shift;
		}
		break;
	case REG_QUEUE_SEL:
		dev->queue_sel = val;
		break;
	case REG_QUEUE_NUM:
		if (vq)
			vq->num = val;
		break;
	case REG_QUEUE_READY:
		if (!vq)
			break;
		/* Rings first, then the flag device threads look at. */
		__atomic_store_n(&vq->ready, val && queue_map(vq) == 0,
				 __ATOMIC_RELEASE);
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
	case REG_QUEUE_AVAIL_LOW:
	case REG_QUEUE_AVAIL_HIGH:
	case REG_QUEUE_USED_LOW:
	case REG_QUEUE_USED_HIGH:
		if (vq) {
			uint64_t *addr =
				off < REG_QUEUE_AVAIL_LOW  ? &vq->desc_addr
				: off < REG_QUEUE_USED_LOW ? &vq->avail_addr
							   : &vq->used_addr;
			if (off & 4)
				*addr = (*addr & 0xffffffffULL) |
					((uint64_t)val << 32);
			else
				*addr = (*addr & ~0xffffffffULL) | val;
		}
		break;
	case REG_INTERRUPT_ACK:
		__atomic_fetch_and(&dev->interrupt_status, ~val,
				   __ATOMIC_ACQ_REL);
		break;
	case REG_STATUS:
		if (val == 0) {
			device_reset(dev);
		} else {
			/* Features the device does not offer fail FEATURES_OK.
			 */
			if ((val & STATUS_FEATURES_OK) &&
			    (dev->driver_features & ~dev->features))
				val &= ~(uint32_t)STATUS_FEATURES_OK;
			dev->status = val;
		}
		break;
	default:
		break;
	}
}

int host_iomem_access(unsigned long addr, void *val, int size, int write)
{
	struct virtio_dev *dev = device_at(addr);
	unsigned int off;

	if (!dev)
		return -ENXIO;
	off = (unsigned int)(addr - dev->base);
	if (off >= REG_CONFIG) {
		if (write)
			return 0; /* our config spaces are read-only */
		memset(val, 0, (size_t)size);
		dev->ops->config_read(dev, off - REG_CONFIG, val, size);
		return 0;
	}
	if (size != 4 || (off & 3))
		return -EINVAL;
	if (write) {
		uint32_t v;
		uint32_t old_status = dev->status;

		memcpy(&v, val, 4);
		if (off == REG_QUEUE_NOTIFY) {
			if (v < dev->nqueues && dev->queues[v].ready)
				dev->ops->notify(dev, v);
			return 0;
		}
		pthread_mutex_lock(&dev->lock);
		reg_write(dev, off, v);
		pthread_mutex_unlock(&dev->lock);
		if (off == REG_STATUS && dev->status != old_status &&
		    dev->ops->status_changed)
			dev->ops->status_changed(dev, dev->status);
	} else {
		uint32_t v = reg_read(dev, off);

		memcpy(val, &v, 4);
	}
	return 0;
}

/* Ring accessors: avail = flags, idx, ring[num], used_event; used = flags,
 * idx, elems[num], avail_event. */
static uint16_t avail_idx(struct virtio_queue *vq)
{
	return __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
}

bool virtio_queue_has_avail(struct virtio_dev *dev, unsigned int q)
{
	struct virtio_queue *vq = &dev->queues[q];

	return __atomic_load_n(&vq->ready, __ATOMIC_ACQUIRE) &&
	       avail_idx(vq) != vq->last_avail;
}

void virtio_queue_push(struct virtio_dev *dev, unsigned int q, uint16_t head,
		       uint32_t len)
{
	struct virtio_queue *vq = &dev->queues[q];
	struct vring_used_elem *elems =
		(struct vring_used_elem *)(vq->used + 2);
	struct vring_used_elem *e = &elems[vq->used_idx % vq->num];

	e->id = head;
	e->len = len;
	vq->used_idx++;
	/* The element is written before the index that publishes it. */
	__atomic_store_n(&vq->used[1], vq->used_idx, __ATOMIC_RELEASE);
}

bool virtio_queue_pop(struct virtio_dev *dev, unsigned int q,
		      struct virtio_req *req)
{
	struct virtio_queue *vq = &dev->queues[q];
	unsigned int count = 0;
	uint16_t idx;

	if (!virtio_queue_has_avail(dev, q))
		return false;
	idx = vq->avail[2 + vq->last_avail % vq->num];
	vq->last_avail++;
	req->head = idx;
	req->nout = req->nin = 0;
	req->in_len = 0;
	for (;;) {
		struct vring_desc *d;
		void *p;

		if (idx >= vq->num ||
		    count >= sizeof(req->iov) / sizeof(req->iov[0]))
			goto bad;
		d = &vq->desc[idx];
		p = virtio_phys_to_host(d->addr, d->len);
		if (!p && d->len)
			goto bad;
		if (d->flags & VRING_DESC_F_WRITE) {
			req->in_len += d->len;
			req->nin++;
		} else {
			if (req->nin)
				goto bad; /* readable after writable */
			req->nout++;
		}
		req->iov[count].iov_base = p;
		req->iov[count].iov_len = d->len;
		count++;
		if (!(d->flags & VRING_DESC_F_NEXT))
			break;
		idx = d->next;
	}
	return true;
bad:
	virtio_queue_push(dev, q, req->head, 0);
	return false;
}

void virtio_queue_interrupt(struct virtio_dev *dev, unsigned int q)
{
	struct virtio_queue *vq = &dev->queues[q];

	if (__atomic_load_n(&vq->avail[0], __ATOMIC_ACQUIRE) &
	    VRING_AVAIL_F_NO_INTERRUPT)
		return;
	__atomic_fetch_or(&dev->interrupt_status, 1, __ATOMIC_ACQ_REL);
	skl_trigger_irq(dev->irq);
}

void virtio_queue_set_notify(struct virtio_dev *dev, unsigned int q, bool want)
{
	struct virtio_queue *vq = &dev->queues[q];

	if (!__atomic_load_n(&vq->ready, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&vq->used[0], want ? 0 : VRING_USED_F_NO_NOTIFY,
			 __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
