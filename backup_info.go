package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/wal"
)

// backupInfoFile marks a complete backup. It is written last, after the
// copy was verified, and names the checksum of the MANIFEST it completes.
const backupInfoFile = "BACKUP"

// backupInfoVersion is the version of BACKUP's format; readers refuse
// newer ones.
const backupInfoVersion = 1

// backupInfo is the content of BACKUP (FORMAT.md, "BACKUP").
type backupInfo struct {
	Version int `json:"version"`
	// Seq is the backup's sequence number: every event up to it, none after.
	Seq       uint64 `json:"seq"`
	SealedSeq uint64 `json:"sealed_seq"`
	Segments  int    `json:"segments"`
	WALFiles  int    `json:"wal_files"`
	// ManifestCRC is the CRC-32C of the whole MANIFEST file it completes,
	// as 8 lower-case hex digits.
	ManifestCRC string    `json:"manifest_crc32c"`
	Created     time.Time `json:"created"`
	// Source is the data directory the backup was taken of.
	Source string `json:"source"`
}

// writeBackupInfo writes BACKUP atomically: indented JSON and a line
// "crc32c XXXXXXXX", as MANIFEST.
func writeBackupInfo(fsys vfs.FS, dir string, info backupInfo) error {
	body, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	body = append(body, '\n')
	data := fmt.Appendf(body, "crc32c %08x\n", crc32.Checksum(body, castagnoli))
	if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, backupInfoFile), data); err != nil {
		return fmt.Errorf("write %s: %w", backupInfoFile, err)
	}
	return nil
}

// errIncompleteBackup marks a directory that is not a complete backup.
var errIncompleteBackup = errors.New("not a complete backup")

// readBackupInfo reads dir's BACKUP and checks that it completes dir's
// MANIFEST.
func readBackupInfo(fsys vfs.FS, dir string) (backupInfo, error) {
	var info backupInfo
	data, err := vfs.ReadFile(fsys, filepath.Join(dir, backupInfoFile))
	if errors.Is(err, fs.ErrNotExist) {
		return info, fmt.Errorf("%w: %s has no %s file (a backup still being written, or one that failed)", errIncompleteBackup, dir, backupInfoFile)
	}
	if err != nil {
		return info, err
	}
	body, err := checkCRCLine(data)
	if err != nil {
		return info, fmt.Errorf("%w: %s: %v", errIncompleteBackup, backupInfoFile, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		return info, fmt.Errorf("%w: %s: %v", errIncompleteBackup, backupInfoFile, err)
	}
	if info.Version > backupInfoVersion {
		return info, fmt.Errorf("%s format version %d is newer than this eventlog supports (%d)", backupInfoFile, info.Version, backupInfoVersion)
	}
	m, err := vfs.ReadFile(fsys, filepath.Join(dir, manifestFile))
	if err != nil {
		return info, fmt.Errorf("%w: %v", errIncompleteBackup, err)
	}
	if got := fmt.Sprintf("%08x", crc32.Checksum(m, castagnoli)); got != info.ManifestCRC {
		return info, fmt.Errorf("%w: MANIFEST has checksum %s, %s names %s", errIncompleteBackup, got, backupInfoFile, info.ManifestCRC)
	}
	return info, nil
}

// checkCRCLine checks the last line "crc32c XXXXXXXX" of data against the
// bytes before it and returns them.
func checkCRCLine(data []byte) ([]byte, error) {
	i := bytes.LastIndex(data, []byte("crc32c "))
	if i < 0 || !bytes.HasSuffix(data, []byte("\n")) {
		return nil, errors.New("no checksum line")
	}
	want, err := strconv.ParseUint(string(bytes.TrimSpace(data[i+len("crc32c "):])), 16, 32)
	if err != nil {
		return nil, errors.New("bad checksum line")
	}
	if got := crc32.Checksum(data[:i], castagnoli); got != uint32(want) {
		return nil, fmt.Errorf("checksum %08x, expected %08x", got, want)
	}
	return data[:i], nil
}

// verifyCopy checks a copied data directory as Verify does (the manifest,
// every live segment's checksums and counts, every WAL record) and that
// its WAL ends exactly at seq: it holds every event up to seq and none
// after. Quarantined segments are copied as they are and not checked.
func verifyCopy(dir string, seq uint64, dec *zstd.Decoder) error {
	m, err := readManifest(vfs.OS{}, dir)
	if err != nil {
		return err
	}
	var problems []error
	for _, meta := range m.Segments {
		problems = append(problems, verifySegment(filepath.Join(dir, segmentsDirName, meta.Name), meta, dec)...)
	}
	last, err := lastLoggedSeq(dir, m.SealedSeq)
	problems = append(problems, err)
	if err == nil && max(last, m.SealedSeq) != seq {
		problems = append(problems, fmt.Errorf("the copy holds events up to seq %d, expected %d", max(last, m.SealedSeq), seq))
	}
	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("verify the copy: %w", err)
	}
	return nil
}

// lastLoggedSeq replays dir's WAL read-only after sealed, decoding every
// event, and returns the last sequence number it holds (0: none).
func lastLoggedSeq(dir string, sealed uint64) (uint64, error) {
	var last uint64
	w, err := wal.Open(wal.Options{Dir: filepath.Join(dir, walDirName), ReadOnly: true}, sealed, func(r wal.Record) error {
		last = r.FirstSeq + uint64(r.Count) - 1
		_, err := decodeBatch(r.Payload, r.FirstSeq, r.Count, func(int, *Event, []byte) {})
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return last, w.Close()
}
