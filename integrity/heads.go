package integrity

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// HeadsFile is the append-only file of signed tree heads.
const HeadsFile = "HEADS"

const (
	headsMagic   = "EVLHEADS"
	headsVersion = 1
	// headRecordSize is one head's record: size, timestamp, root,
	// signature, CRC.
	headRecordSize = 8 + 8 + HashSize + ed25519.SignatureSize + 4
	// headContext starts every signed message, so a head's signature
	// cannot be taken for a signature over anything else.
	headContext = "eventlog tree head v1\n"
)

// Head is a tree head: the tree's size and root hash at a time.
type Head struct {
	Size      uint64
	Root      Hash
	Timestamp time.Time
}

// SignedHead is a Head with its Ed25519 signature over SignedMessage.
type SignedHead struct {
	Head
	Signature []byte
}

// SignedMessage returns the bytes a head's signature covers: headContext,
// then size and timestamp (Unix nanoseconds) as 8 bytes big-endian each,
// then the root hash.
func (h Head) SignedMessage() []byte {
	b := append([]byte(nil), headContext...)
	b = binary.BigEndian.AppendUint64(b, h.Size)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Timestamp.UnixNano()))
	return append(b, h.Root[:]...)
}

// Sign signs h with k.
func Sign(k ed25519.PrivateKey, h Head) SignedHead {
	h.Timestamp = time.Unix(0, h.Timestamp.UnixNano()).UTC()
	return SignedHead{Head: h, Signature: ed25519.Sign(k, h.SignedMessage())}
}

// Verify checks the head's signature against pub.
func (s SignedHead) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, s.SignedMessage(), s.Signature) {
		return fmt.Errorf("head of size %d at %s: bad signature", s.Size, s.Timestamp.Format(time.RFC3339Nano))
	}
	return nil
}

// headJSON is a signed head's JSON form.
type headJSON struct {
	TreeSize  uint64    `json:"tree_size"`
	RootHash  string    `json:"root_hash"` // hex
	Timestamp time.Time `json:"timestamp"` // RFC 3339, nanoseconds
	Signature string    `json:"signature"` // base64
}

// MarshalJSON encodes the head as {"tree_size", "root_hash" (hex),
// "timestamp" (RFC 3339), "signature" (base64)}.
func (s SignedHead) MarshalJSON() ([]byte, error) {
	return json.Marshal(headJSON{TreeSize: s.Size, RootHash: hex.EncodeToString(s.Root[:]), Timestamp: s.Timestamp.UTC(), Signature: base64.StdEncoding.EncodeToString(s.Signature)})
}

// UnmarshalJSON decodes MarshalJSON's form, checking the field sizes.
func (s *SignedHead) UnmarshalJSON(b []byte) error {
	var j headJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	root, err := hex.DecodeString(j.RootHash)
	if err != nil || len(root) != HashSize {
		return fmt.Errorf("root_hash: expected %d bytes in hex", HashSize)
	}
	sig, err := base64.StdEncoding.DecodeString(j.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("signature: expected %d bytes in base64", ed25519.SignatureSize)
	}
	*s = SignedHead{Head: Head{Size: j.TreeSize, Root: Hash(root), Timestamp: j.Timestamp.UTC()}, Signature: sig}
	return nil
}

func appendHeadsHeader(dst []byte) []byte { return appendFileHeader(dst, headsMagic, headsVersion) }

// appendHeadRecord encodes a signed head's record.
func appendHeadRecord(dst []byte, s SignedHead) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, s.Size)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.Timestamp.UnixNano()))
	dst = append(dst, s.Root[:]...)
	dst = append(dst, s.Signature...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeHeadRecord decodes one record, checking its CRC.
func decodeHeadRecord(b []byte) (SignedHead, error) {
	if len(b) < headRecordSize {
		return SignedHead{}, fmt.Errorf("record of %d bytes is short", len(b))
	}
	body := b[:headRecordSize-4]
	if binary.LittleEndian.Uint32(b[headRecordSize-4:]) != crc32.Checksum(body, castagnoli) {
		return SignedHead{}, errors.New("record checksum mismatch")
	}
	var s SignedHead
	s.Size = binary.LittleEndian.Uint64(body)
	s.Timestamp = time.Unix(0, int64(binary.LittleEndian.Uint64(body[8:]))).UTC()
	s.Root = Hash(body[16:48])
	s.Signature = append([]byte(nil), body[48:]...)
	return s, nil
}

// DecodeHeads decodes a heads file's bytes. A short last record (a torn
// append) is reported by torn > 0, the bytes to cut; any other damage is
// an error naming the record and its offset.
func DecodeHeads(b []byte) (heads []SignedHead, torn int, err error) {
	if len(b) < 16 {
		return nil, len(b), nil
	}
	if err := checkFileHeader(b, headsMagic, headsVersion); err != nil {
		return nil, 0, fmt.Errorf("heads file: %w", err)
	}
	off := 16
	for ; off+headRecordSize <= len(b); off += headRecordSize {
		h, err := decodeHeadRecord(b[off:])
		if err != nil {
			if off+headRecordSize == len(b) {
				return heads, headRecordSize, nil // a torn last append
			}
			return heads, 0, fmt.Errorf("%w: heads file at offset %d (head %d): %v", ErrCorrupt, off, len(heads), err)
		}
		heads = append(heads, h)
	}
	return heads, len(b) - off, nil
}

// headsLog is the open heads file.
type headsLog struct {
	fs    vfs.FS
	path  string
	f     vfs.File
	heads []SignedHead
	end   int64
}

// openHeads opens (creating unless readOnly) the heads file, cutting a
// torn last record.
func openHeads(fsys vfs.FS, path string, readOnly bool, log *slog.Logger) (*headsLog, error) {
	h := &headsLog{fs: fsys, path: path}
	flag := os.O_RDWR | os.O_CREATE
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := fsys.OpenFile(path, flag, 0o644)
	if errors.Is(err, fs.ErrNotExist) && readOnly {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	h.f = f
	data, err := readAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	heads, torn, err := DecodeHeads(data)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	h.heads, h.end = heads, int64(len(data)-torn)
	if torn > 0 && !readOnly {
		log.Warn("integrity: cutting a torn head record", "file", path, "offset", h.end, "bytes", torn)
		if err := h.repairTail(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return h, nil
}

// repairTail cuts a torn tail and rewrites a missing header.
func (h *headsLog) repairTail() error {
	if h.end < 16 {
		h.end = 0
	}
	if err := h.f.Truncate(h.end); err != nil {
		return fmt.Errorf("truncate %s: %w", h.path, err)
	}
	return h.f.Sync()
}

// add appends a signed head and fsyncs it.
func (h *headsLog) add(s SignedHead) error {
	var rec []byte
	if h.end == 0 {
		rec = appendHeadsHeader(rec)
	}
	rec = appendHeadRecord(rec, s)
	if _, err := h.f.WriteAt(rec, h.end); err != nil {
		h.f.Truncate(h.end)
		return fmt.Errorf("write %s: %w", h.path, err)
	}
	if err := h.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", h.path, err)
	}
	h.end += int64(len(rec))
	h.heads = append(h.heads, s)
	return nil
}

func (h *headsLog) close() error {
	if h.f == nil {
		return nil
	}
	return h.f.Close()
}
