/*
 * bdev_file: a sparse regular file or a block device.
 *
 * pread()/pwrite() may return short counts (signals, device limits), so each
 * transfer loops until done; a zero-byte transfer (EOF) becomes -EIO so the
 * caller never sees a silent partial I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bdev.h"

struct file_bdev {
	struct bdev bd;
	int fd;
	int is_blk;
};

static struct file_bdev *fb_of(struct bdev *bd)
{
	return bd->priv;
}

static int range_ok(struct bdev *bd, uint64_t len, uint64_t off)
{
	if (off > bd->size || len > bd->size - off)
		return -ERANGE;
	return 0;
}

static int file_pread(struct bdev *bd, void *buf, size_t len, uint64_t off)
{
	struct file_bdev *fb = fb_of(bd);
	uint8_t *p = buf;
	int rc = range_ok(bd, len, off);

	if (rc)
		return rc;
	while (len) {
		ssize_t n = pread(fb->fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int file_pwrite(struct bdev *bd, const void *buf, size_t len, uint64_t off)
{
	struct file_bdev *fb = fb_of(bd);
	const uint8_t *p = buf;
	int rc = range_ok(bd, len, off);

	if (rc)
		return rc;
	while (len) {
		ssize_t n = pwrite(fb->fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int file_flush(struct bdev *bd)
{
	struct file_bdev *fb = fb_of(bd);

	while (fdatasync(fb->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/*
 * Discard is a hint (bdev.h: the engine relies on neither zeros nor old
 * data), so a file system or device that cannot do it is not an error.
 */
static int file_discard(struct bdev *bd, uint64_t off, uint64_t len)
{
	struct file_bdev *fb = fb_of(bd);
	int rc = range_ok(bd, len, off);

	if (rc)
		return rc;
	if (len == 0)
		return 0;
	if (fb->is_blk) {
		uint64_t range[2] = {off, len};

		(void)ioctl(fb->fd, BLKDISCARD, range);
		return 0;
	}
	if (fallocate(fb->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) <
	    0) {
		if (errno == EOPNOTSUPP || errno == ENOSYS)
			return 0;
		return -errno;
	}
	return 0;
}

/* Start writeback of a range and return at once (sync_file_range with
 * only SYNC_FILE_RANGE_WRITE waits for nothing and makes nothing durable:
 * the commit's fdatasync still does that, but finds less to write). */
static void file_writeback(struct bdev *bd, uint64_t off, uint64_t len)
{
	struct file_bdev *fb = fb_of(bd);

	if (!range_ok(bd, len, off) && len)
		(void)sync_file_range(fb->fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
}

static void file_destroy(struct bdev *bd)
{
	struct file_bdev *fb = fb_of(bd);

	close(fb->fd);
	free(fb);
}

static const struct bdev_ops file_ops = {
    .pread = file_pread,
    .pwrite = file_pwrite,
    .flush = file_flush,
    .discard = file_discard,
    .writeback = file_writeback,
    .destroy = file_destroy,
};

int bdev_file_open(const char *path, uint64_t size, int create, struct bdev **out)
{
	struct file_bdev *fb;
	struct stat st;
	int flags = O_RDWR | O_CLOEXEC;
	int fd, rc;

	if (!path || !out)
		return -EINVAL;
	if (create)
		flags |= O_CREAT;
	fd = open(path, flags, 0644);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}

	fb = calloc(1, sizeof(*fb));
	if (!fb) {
		rc = -ENOMEM;
		goto fail;
	}
	fb->fd = fd;
	fb->is_blk = S_ISBLK(st.st_mode);

	if (fb->is_blk) {
		uint64_t devsize = 0;

		if (ioctl(fd, BLKGETSIZE64, &devsize) < 0) {
			rc = -errno;
			goto fail_free;
		}
		/* A device cannot grow: size 0 means "all of it". */
		if (size > devsize) {
			rc = -ENOSPC;
			goto fail_free;
		}
		fb->bd.size = size ? size : devsize;
	} else if (S_ISREG(st.st_mode)) {
		if (create && size) {
			/* Truncate to 0 first so the new image is all holes
			 * (reads zeros) even if the file existed. */
			if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0) {
				rc = -errno;
				goto fail_free;
			}
			fb->bd.size = size;
		} else {
			if (size && (uint64_t)st.st_size < size) {
				rc = -ENOSPC;
				goto fail_free;
			}
			fb->bd.size = size ? size : (uint64_t)st.st_size;
		}
	} else {
		rc = -EINVAL;
		goto fail_free;
	}
	if (fb->bd.size == 0) {
		rc = -EINVAL;
		goto fail_free;
	}

	fb->bd.ops = &file_ops;
	fb->bd.priv = fb;
	*out = &fb->bd;
	return 0;

fail_free:
	free(fb);
fail:
	close(fd);
	return rc;
}
