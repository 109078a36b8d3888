/*
 * vds_lun: a portable mirror of VDS_LUN_INFORMATION (vdslun.h).
 *
 * The provider's portable core works on these fixed-size structs; the
 * Windows shell converts them to and from the real VDS_LUN_INFORMATION
 * (CoTaskMemAlloc'ed strings and identifier arrays) at the COM boundary,
 * so nothing here allocates and nothing here needs windows.h.
 *
 * Sizes follow SPC-4: designator length is one byte (<= 255), VPD 0x80
 * serial length is bounded here by VDS_SERIAL_MAX.
 */
#ifndef ARRAYSIM_VDS_LUN_H
#define ARRAYSIM_VDS_LUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VDS_LUN_VERSION	    1 /* VER_VDS_LUN_INFORMATION */
#define VDS_ID_DESC_VERSION 1 /* VER_VDS_STORAGE_DEVICE_ID_DESCRIPTOR */
#define VDS_LUN_MAX_IDS	    16
#define VDS_ID_MAX_LEN	    255
#define VDS_SERIAL_MAX	    255
#define VDS_LUN_MAX_IC	    4
#define VDS_IC_ADDR_MAX	    64
#define INQUIRY_MIN_LEN	    36

/* VDS_STORAGE_IDENTIFIER_CODE_SET = SPC CODE SET */
enum vds_code_set { VDS_CS_RESERVED = 0, VDS_CS_BINARY = 1, VDS_CS_ASCII = 2, VDS_CS_UTF8 = 3 };

/* VDS_STORAGE_IDENTIFIER_TYPE = SPC DESIGNATOR TYPE; unknown values are kept */
enum vds_id_type {
	VDS_ID_VENDOR_SPECIFIC = 0,
	VDS_ID_VENDOR_ID = 1,
	VDS_ID_EUI64 = 2,
	VDS_ID_NAA = 3, /* StorageIdTypeFCPHName */
	VDS_ID_PORT_RELATIVE = 4,
	VDS_ID_TARGET_PORT_GROUP = 5,
	VDS_ID_LU_GROUP = 6,
	VDS_ID_MD5_LU = 7,
	VDS_ID_SCSI_NAME = 8,
};

/* the two VDS_STORAGE_BUS_TYPE values the provider uses */
enum { VDS_BUS_UNKNOWN = 0, VDS_BUS_SCSI = 1, VDS_BUS_ISCSI = 9 };

/* builder errors: negative, distinct, so tests and logs can tell why */
enum vds_err {
	VDS_OK = 0,
	VDS_EINVAL = -1,     /* NULL output or required page missing */
	VDS_ETRUNC = -2,     /* buffer shorter than the page header or its PAGE LENGTH */
	VDS_EPAGE = -3,	     /* wrong page code / not a VPD page */
	VDS_EMALFORMED = -4, /* a designator runs past the end of the page */
	VDS_ETOOMANY = -5,   /* more association-0 designators than VDS_LUN_MAX_IDS */
	VDS_ETOOBIG = -6,    /* serial longer than VDS_SERIAL_MAX */
};

struct vds_id {
	uint8_t code_set; /* enum vds_code_set */
	uint8_t type;	  /* enum vds_id_type */
	uint8_t len;
	uint8_t bytes[VDS_ID_MAX_LEN];
};

struct vds_interconnect {
	uint32_t addr_type; /* VDS_INTERCONNECT_ADDRESS_TYPE */
	uint32_t port_len;
	uint8_t port[VDS_IC_ADDR_MAX];
	uint32_t addr_len;
	uint8_t addr[VDS_IC_ADDR_MAX];
};

struct vds_lun_info {
	uint32_t version; /* VDS_LUN_VERSION */
	uint8_t device_type;
	uint8_t device_type_modifier;
	uint8_t cmd_queueing; /* bool, WINBOOL on Windows */
	uint32_t bus_type;
	char vendor[8 + 1]; /* INQUIRY bytes as sent (space padded), NUL-terminated */
	char product[16 + 1];
	char revision[4 + 1];
	char serial[VDS_SERIAL_MAX + 1];
	uint8_t disk_signature[16]; /* always zero in provider output (GUID_NULL) */
	uint32_t id_version;	    /* VDS_ID_DESC_VERSION */
	uint32_t n_ids;
	struct vds_id ids[VDS_LUN_MAX_IDS]; /* association 0 only */
	uint32_t n_interconnects;	    /* never modified by the provider */
	struct vds_interconnect interconnects[VDS_LUN_MAX_IC];
};

/*
 * Fill *out from raw INQUIRY (>= 36 bytes), VPD 0x80 and VPD 0x83 pages.
 * vpd80/vpd83 may be NULL (len 0): the serial / designator list is then
 * empty.  Keeps only association-0 designators.  On error *out is left
 * zeroed apart from what had been parsed; callers must not use it.
 */
int vds_lun_build(struct vds_lun_info *out, const uint8_t *inq, size_t inq_len,
		  const uint8_t *vpd80, size_t vpd80_len, const uint8_t *vpd83, size_t vpd83_len);

const char *vds_strerror(int err);

/* the 16-byte NAA (type 3, binary, NAA 6) designator, as LUN_NAA carries it */
bool vds_lun_naa16(const struct vds_lun_info *lun, uint8_t naa[16]);

/*
 * Same LUN?  Decided by strong designators (NAA, EUI-64, SCSI name
 * string) when both sides have any: one identical designator is a
 * match, none is a mismatch.  Only when one side has none do vendor,
 * product and serial (trailing spaces ignored) decide.  BusType and
 * disk signature are ignored, as VSS ignores them.
 */
bool vds_lun_same(const struct vds_lun_info *a, const struct vds_lun_info *b);

/*
 * The identity a snapshot LUN of the array reports, derived from its
 * origin's (vendor, product, revision, device type, interconnects kept)
 * and the snapshot's own serial and NAA: designators in the order
 * array-sim/scsi/spc.c sends them (NAA-6 binary, T10 vendor id ASCII
 * "ARRAYSIM" + serial), disk signature zero.
 */
void vds_lun_target(struct vds_lun_info *out, const struct vds_lun_info *origin,
		    const uint8_t naa[16], const char *serial);
/* length of s without trailing spaces; helper for space-padded SCSI text */
size_t vds_trimmed_len(const char *s);

#endif
