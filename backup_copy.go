package eventlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/integrity"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

const (
	segmentsDirName     = "segments"
	walDirName          = "wal"
	destinationsDirName = "destinations"
	seqReservedFile     = "seq.reserved"
)

// backupKind is how a backup treats one entry of the data directory.
type backupKind int

const (
	backupSkip     backupKind = iota // not copied
	backupFile                       // a file replaced atomically: copied as it is now
	backupDir                        // a directory of such files: each copied, the target's others removed
	backupManifest                   // the pinned manifest, written after every file it needs, with TOMBSTONES and MANIFEST.prev
	backupLog                        // the pinned WAL files, then seq.reserved
	backupSegments                   // the pinned manifest's segments
	backupTree                       // integrity/: its files, then leaves/ (append-only; a torn last leaf is cut and rebuilt at open)
)

// backupEntries are the entries of the data directory as FORMAT.md lists
// them ("The data directory"), with how a backup treats each. A test
// fails when FORMAT.md lists an entry this table does not: a feature
// that adds a file to the directory says here how it is backed up.
var backupEntries = []struct {
	name string // a file, or a directory with a trailing slash
	kind backupKind
}{
	{lockFile, backupSkip}, // the target's own LOCK is held while the backup is written
	{registryFile, backupFile},
	{manifestFile, backupManifest},
	{manifestPrevFile, backupManifest}, // written with MANIFEST (writeManifest), as TOMBSTONES
	{tombstonesFile, backupManifest},
	{readOnlyFile, backupFile},   // a backup of a store that must not take writes must not either
	{pseudonymsFile, backupFile}, // a restored store keeps refusing a second key
	{erasedFile, backupFile},     // a restored store keeps erased client ids known for their window
	{holdsFile, backupFile},      // a restored store keeps its incident holds
	{walDirName + "/", backupLog},
	{segmentsDirName + "/", backupSegments},
	{quarantineDir + "/", backupDir},
	{repairedDir + "/", backupDir},
	{supersededDir + "/", backupDir},
	{destinationsDirName + "/", backupDir},
	{auth.FileName, backupFile}, // the keys' hashes (never secrets): a restored store keeps its access control
	// The Merkle tree, keys included (mode 0600 kept): a restored store
	// goes on with the same tree. Copied after the pinned manifest, so it
	// holds the leaves of every copied sealed event.
	{IntegrityDir + "/", backupTree},
	{backupInfoFile, backupSkip}, // each backup writes its own; Restore leaves it out
	// The object-store writer identity (package tiering) is not copied: a
	// restored backup is behind the bucket, so it must not publish there as
	// the writer; eventlog object-store pull restores from the bucket.
	{"OBJECTSTORE", backupSkip},
	// The writer's segment cache is not copied as such: the offloaded
	// segments it reads are copied whole into the backup's segments/
	// (openSegment fetches them back), so the backup needs no bucket.
	{SegmentCacheDir + "/", backupSkip},
}

// backupRun is one backup (or restore) being written: files of the
// directory srcDir copied to dir.
type backupRun struct {
	src    vfs.FS
	srcDir string
	dst    vfs.FS
	dir    string
	dec    *zstd.Decoder
	stop   func() error // why the copy must stop now, or nil
	// integrity is the store's Merkle tree, when it has one: its packing
	// of erased leaves pauses while integrity/ is copied.
	integrity *integrity.Log
	res       BackupResult
	// openOffloaded opens the whole file of an offloaded segment
	// (Options.OpenSegmentFile); nil when the store has none.
	openOffloaded func(name string) (*os.File, error)
	// dirty are the target's directories with entries renamed in since
	// their last fsync.
	dirty []string
}

// copyPinned copies the snapshot's segments and WAL files and returns the
// latter's names.
func (b *backupRun) copyPinned(snap *backupSnapshot) ([]string, error) {
	var names []string
	for _, s := range snap.segments {
		if err := b.copySegment(s.meta); err != nil {
			return nil, fmt.Errorf("segment %s: %w", s.meta.Name, err)
		}
	}
	for _, f := range snap.wal.Files {
		name := filepath.Base(f.Path)
		if err := b.copyFile(f.Path, filepath.Join(walDirName, name), f.Size); err != nil {
			return nil, fmt.Errorf("WAL file %s: %w", name, err)
		}
		names = append(names, name)
	}
	return names, nil
}

// copySegment copies one live segment unless the target already holds
// it: same size, same last bytes (the footer, which carries the sections'
// checksums) and every checksum verified. A segment being dropped is
// renamed to NAME.deleting; the reference held keeps that file.
func (b *backupRun) copySegment(meta segmentMeta) error {
	in, err := b.openSegment(meta.Name)
	if err != nil {
		return err
	}
	defer in.Close()
	rel := filepath.Join(segmentsDirName, meta.Name)
	if b.haveSegment(in, filepath.Join(b.dir, rel), meta) {
		b.res.FilesSkipped++
		return nil
	}
	if err := b.copyFrom(in, rel, meta.Bytes); err != nil {
		return err
	}
	b.res.SegmentsCopied++
	return nil
}

// openSegment opens a live segment by its name, or by the name a drop
// renamed it to meanwhile, or, offloaded to the object store, through
// the store's segment cache (Options.OpenSegmentFile), which fetches it
// back whole: a backup holds every segment, whatever the writer's disk
// keeps.
func (b *backupRun) openSegment(name string) (vfs.File, error) {
	path := filepath.Join(b.srcDir, segmentsDirName, name)
	f, err := b.src.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = b.src.OpenFile(path+".deleting", os.O_RDONLY, 0)
	}
	if errors.Is(err, fs.ErrNotExist) && offloaded(b.src, b.srcDir, name) {
		if b.openOffloaded == nil {
			return nil, errOffloaded(b.srcDir, name)
		}
		of, oerr := b.openOffloaded(name)
		if oerr != nil {
			return nil, fmt.Errorf("fetch offloaded segment: %w", oerr)
		}
		return of, nil
	}
	return f, err
}

// tailBytes is how much of a segment's end an incremental backup compares
// before verifying the target's copy: more than its footer.
const tailBytes = 4096

func (b *backupRun) haveSegment(src vfs.File, dst string, meta segmentMeta) bool {
	if info, err := b.dst.Stat(dst); err != nil || info.Size() != meta.Bytes {
		return false
	}
	n := min(meta.Bytes, tailBytes)
	want := make([]byte, n)
	if _, err := src.ReadAt(want, meta.Bytes-n); err != nil {
		return false
	}
	got, err := readTail(b.dst, dst, meta.Bytes-n, n)
	if err != nil || !bytes.Equal(got, want) {
		return false
	}
	return len(verifySegment(dst, meta, b.dec)) == 0
}

func readTail(fsys vfs.FS, path string, off, n int64) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	_, err = f.ReadAt(buf, off)
	return buf, err
}

// copyEntries copies the directory's other files (backupEntries), then
// seq.reserved, and removes the target's log files other than logFiles.
// seq.reserved it is read after everything else, so its reservation
// covers every sequence number a copied file (a destination's cursor)
// may name, and a restored store never hands one out again.
func (b *backupRun) copyEntries(logFiles []string) error {
	for _, e := range backupEntries {
		var err error
		switch e.kind {
		case backupFile:
			err = b.copyOptional(e.name)
		case backupDir:
			err = b.copyDir(strings.TrimSuffix(e.name, "/"))
		case backupTree:
			err = b.copyIntegrity()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
	}
	reserved := filepath.Join(walDirName, seqReservedFile)
	if err := b.copyOptional(reserved); err != nil {
		return fmt.Errorf("%s: %w", reserved, err)
	}
	keep := map[string]bool{seqReservedFile: true}
	for _, name := range logFiles {
		keep[name] = true
	}
	return b.removeStale(walDirName, keep)
}

// copyIntegrity copies integrity/ and its leaves/, with the store's
// packing of erased leaves paused meanwhile (integrity.Log.PausePacking).
func (b *backupRun) copyIntegrity() error {
	if b.integrity != nil {
		defer b.integrity.PausePacking()()
	}
	if err := b.copyDir(IntegrityDir); err != nil {
		return err
	}
	return b.copyDir(filepath.Join(IntegrityDir, "leaves"))
}

// copyOptional copies the file rel of the data directory, or removes the
// target's when the source has none.
func (b *backupRun) copyOptional(rel string) error {
	info, err := b.src.Stat(filepath.Join(b.srcDir, rel))
	if errors.Is(err, fs.ErrNotExist) {
		err = b.dst.Remove(filepath.Join(b.dir, rel))
		if err == nil {
			b.res.FilesRemoved++
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	return b.copyFile(filepath.Join(b.srcDir, rel), rel, info.Size())
}

// copyDir copies the regular files of the data directory's subdirectory
// rel (leftover *.tmp files aside) and removes the target's others.
func (b *backupRun) copyDir(rel string) error {
	entries, err := b.src.ReadDir(filepath.Join(b.srcDir, rel))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	keep := map[string]bool{}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) { // replaced or removed meanwhile
			continue
		}
		if err != nil {
			return err
		}
		if err := b.copyFile(filepath.Join(b.srcDir, rel, e.Name()), filepath.Join(rel, e.Name()), info.Size()); err != nil {
			return err
		}
		keep[e.Name()] = true
	}
	return b.removeStale(rel, keep)
}

// copyFile copies size bytes of src (an absolute path in the data
// directory) to rel in the target: to rel.tmp, fsynced, then renamed; the
// directory is fsynced by syncDirs. The file keeps its permissions (a
// destination's config holds a secret).
func (b *backupRun) copyFile(src, rel string, size int64) error {
	in, err := b.src.OpenFile(src, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	return b.copyFrom(in, rel, size)
}

// copyFrom copies the first size bytes of in to rel in the target, as
// copyFile.
func (b *backupRun) copyFrom(in vfs.File, rel string, size int64) error {
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return err
	}
	perm := fs.FileMode(0o644)
	if info, err := in.Stat(); err == nil {
		perm = info.Mode().Perm()
	}
	dst := filepath.Join(b.dir, rel)
	if err := b.dst.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	n, err := b.writeSynced(dst+".tmp", io.LimitReader(in, size), perm)
	if err == nil && n != size {
		err = fmt.Errorf("%s: read %d bytes, expected %d", in.Name(), n, size)
	}
	if err != nil {
		b.dst.Remove(dst + ".tmp")
		return err
	}
	if err := b.dst.Rename(dst+".tmp", dst); err != nil {
		return err
	}
	b.markDirty(filepath.Dir(dst))
	b.res.FilesCopied++
	b.res.BytesCopied += n
	return nil
}

// copyBuf is the unit of a copy; the stop check runs between units.
const copyBuf = 1 << 20

// writeSynced writes r to path and fsyncs it.
func (b *backupRun) writeSynced(path string, r io.Reader, perm fs.FileMode) (int64, error) {
	f, err := b.dst.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return 0, err
	}
	n, err := b.copyStoppable(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func (b *backupRun) copyStoppable(w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, copyBuf)
	var total int64
	for {
		if err := b.stop(); err != nil {
			return total, err
		}
		n, err := io.CopyBuffer(w, io.LimitReader(r, copyBuf), buf)
		total += n
		if err != nil || n < copyBuf {
			return total, err
		}
	}
}

func (b *backupRun) markDirty(dir string) {
	if !slices.Contains(b.dirty, dir) {
		b.dirty = append(b.dirty, dir)
	}
}

// syncDirs fsyncs the target's directories with new entries, and the
// target itself (new subdirectories).
func (b *backupRun) syncDirs() error {
	for _, d := range append(b.dirty, b.dir) {
		if err := b.dst.SyncDir(d); err != nil {
			return fmt.Errorf("fsync %s: %w", d, err)
		}
	}
	b.dirty = nil
	return nil
}

// removeStale removes the regular files of the target's directory rel not
// in keep (left by an earlier backup, or *.tmp files of a failed one).
func (b *backupRun) removeStale(rel string, keep map[string]bool) error {
	dir := filepath.Join(b.dir, rel)
	entries, err := b.dst.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	removed := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || keep[e.Name()] {
			continue
		}
		if err := b.dst.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
		removed++
	}
	b.res.FilesRemoved += removed
	if removed == 0 {
		return nil
	}
	return b.dst.SyncDir(dir)
}
