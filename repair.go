package eventlog

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/compaction"
	"github.com/eventlogdb/eventlog/internal/match"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/segment"
)

// Repair salvages what can still be read from a damaged data directory and
// writes it back as healthy files, keeping every event's original sequence
// number. dir must not be open (Repair takes its LOCK). In order:
//
//   - MANIFEST damaged (Open fails naming it): the manifest is rebuilt
//     from the segment files, MANIFEST.prev, TOMBSTONES and the WAL
//     (FORMAT.md, "Rebuilding the manifest"); segments a newer one
//     supersedes move to superseded/, and when the deletes by query cannot
//     be proven complete a READONLY marker makes the store open read-only.
//   - WAL damaged in the middle (Open fails with wal.ErrCorrupt): every
//     record whose checksums hold, before and after the damage and in later
//     files, is written as segments, the manifest's sealed_seq is raised
//     past them, and the log is then truncated at the damage (as
//     Options.Repair would, but without losing the records after it).
//   - Live segments (unless SkipLiveCheck): each is verified in full; a
//     damaged one is moved to quarantine/ like Open does.
//   - Each segment in quarantine/: every good block is written back as new
//     segments, and the damaged file (with its sidecar) is moved to
//     repaired/ for the operator to inspect and delete.
//
// The report lists, per source, the events recovered and the sequence
// ranges lost. Repair is safe to run again after a crash or on a healthy
// directory (it then changes nothing).
func Repair(dir string, opts RepairOptions) (*RepairReport, error) {
	opts = opts.withDefaults()
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("eventlog: repair: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer lock.release()
	if err := refuseOffloaded(opts.FS, dir); err != nil {
		return nil, err
	}
	r := &repairer{dir: dir, opts: opts, fs: opts.FS, log: opts.Logger, report: &RepairReport{}}
	defer r.close()
	if err := r.init(); err != nil {
		return r.report, err
	}
	if err := r.repairWAL(); err != nil {
		return r.report, fmt.Errorf("eventlog: repair WAL: %w", err)
	}
	if !opts.SkipLiveCheck {
		if err := r.checkLive(); err != nil {
			return r.report, fmt.Errorf("eventlog: repair: check segments: %w", err)
		}
	}
	if err := r.repairQuarantine(); err != nil {
		return r.report, fmt.Errorf("eventlog: repair: %w", err)
	}
	return r.report, nil
}

// RepairOptions configure Repair. The zero value is the default for every
// field.
type RepairOptions struct {
	// Logger receives progress and the WAL's truncation warnings. Nil:
	// discarded.
	Logger *slog.Logger
	// Partition splits salvaged events into segments by @timestamp, as
	// Options.Partition does. Zero: 24 hours.
	Partition time.Duration
	// SkipLiveCheck skips verifying the live segments (which decodes every
	// block of the store). Zero (false): live segments are verified and a
	// damaged one is repaired too.
	SkipLiveCheck bool
	// FS is the file system to repair in, as Options.FS. Nil: the
	// operating system's.
	FS vfs.FS
}

func (o RepairOptions) withDefaults() RepairOptions {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.Partition <= 0 {
		o.Partition = compaction.DefaultPartition
	}
	return o
}

// RepairReport says what Repair recovered and lost.
type RepairReport struct {
	// Manifest is nil when MANIFEST was intact; else what its rebuild
	// found.
	Manifest *ManifestRepair
	// WAL is nil when the write-ahead log needed no repair.
	WAL *WALRepair
	// Segments has one entry per damaged segment file handled.
	Segments []SegmentRepair
	// TreeLost counts the Merkle tree's positions (leaves) whose events
	// the repair lost, recorded as lost to repair in integrity/ERASURES
	// before the loss took effect (integrity_loss.go).
	TreeLost uint64
}

// Clean reports whether nothing needed repair.
func (r *RepairReport) Clean() bool { return r.Manifest == nil && r.WAL == nil && len(r.Segments) == 0 }

// Lost returns every sequence range lost, WAL first.
func (r *RepairReport) Lost() []SeqRange {
	var out []SeqRange
	if r.WAL != nil {
		for _, d := range r.WAL.Damage {
			if d.Lost != nil {
				out = append(out, *d.Lost)
			}
		}
	}
	for _, s := range r.Segments {
		out = append(out, s.Lost...)
	}
	return out
}

// WALRepair is the WAL part of a RepairReport.
type WALRepair struct {
	// Recovered counts the events of good records (above the manifest's
	// sealed_seq) written as segments; Segments names those files.
	Recovered int
	Segments  []string
	// Damage lists every damaged stretch of a log file.
	Damage []WALDamage
}

// WALDamage is one damaged stretch of a log file: bytes [Offset,
// Offset+Bytes) held no readable record.
type WALDamage struct {
	File          string
	Offset, Bytes int64
	Reason        string
	// Torn is a torn tail of the last file: an append cut short by a crash
	// (never acknowledged under SyncAlways), not lost data.
	Torn bool
	// Lost is where the sequence numbers of the records that stood there
	// lie (nil when none can have been lost: torn, or already in segments).
	Lost *SeqRange
}

// SegmentRepair is one damaged segment file in a RepairReport.
type SegmentRepair struct {
	// Name is the damaged file, now under repaired/.
	Name string
	// Recovered counts the events of its good blocks; Segments names the new
	// files holding them.
	Recovered int
	Segments  []string
	// Lost lists the sequence ranges of the blocks that could not be read;
	// when the block index was unreadable, the events no block accounts
	// for, bounded by the file's lowest and highest unrecovered numbers.
	Lost []SeqRange
	// Reason is why the file was set aside, when known.
	Reason string
	// Corrected lists the flipped bits of its footer or block index that
	// salvage corrected by their CRC (segment.SalvageResult.Corrected).
	Corrected []string
}

// SeqRange is a range of sequence numbers that held lost events. Sequence
// numbers may have gaps and a segment's range may interleave with another's,
// so the range bounds the lost events; Events counts them (-1: unknown).
// Last is 0 when the end is unknown; First is 0 when nothing is known.
type SeqRange struct {
	First, Last uint64
	Events      int
}

func (s SeqRange) String() string {
	n := "an unknown number of events"
	if s.Events >= 0 {
		n = fmt.Sprintf("%d events", s.Events)
	}
	switch {
	case s.First == 0:
		return "unknown sequence numbers (" + n + ")"
	case s.Last == 0:
		return fmt.Sprintf("seq %d.. (end unknown; %s)", s.First, n)
	}
	return fmt.Sprintf("seq %d..%d (%s)", s.First, s.Last, n)
}

// repairedDir keeps the damaged files Repair has salvaged.
const repairedDir = "repaired"

// repairer is the state of one Repair call.
type repairer struct {
	dir    string
	opts   RepairOptions
	fs     vfs.FS
	log    *slog.Logger
	m      *manifest
	enc    *zstd.Encoder
	dec    *zstd.Decoder
	report *RepairReport
	// seqs caches the sorted sequence numbers of live segments (seqsOf).
	seqs map[string][]uint64
	// salvaged and sealedFloor: what a manifest rebuild learnt of damaged
	// segments, whose salvage comes later (damagedMeta).
	salvaged    []uint64
	sealedFloor uint64
}

func (r *repairer) init() error {
	var err error
	if r.enc, err = segment.NewEncoder(0); err != nil {
		return err
	}
	if r.dec, err = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(256<<20)); err != nil {
		return err
	}
	r.m, err = readManifest(r.fs, r.dir)
	if errors.Is(err, errManifest) {
		if err := r.rebuildManifest(err); err != nil {
			return fmt.Errorf("eventlog: repair: rebuild the manifest: %w", err)
		}
		return nil
	}
	return err
}

func (r *repairer) close() {
	if r.enc != nil {
		r.enc.Close()
	}
	if r.dec != nil {
		r.dec.Close()
	}
}

// writeRows writes rows (any order; duplicates of a sequence number are
// dropped) as one segment per time partition, taking ids from r.m, and
// returns their manifest entries. The caller records them in the manifest;
// until then they are leftovers that Open deletes.
func (r *repairer) writeRows(rows []segment.Row) ([]segmentMeta, error) {
	slices.SortFunc(rows, func(a, b segment.Row) int {
		return cmp.Or(cmp.Compare(a.Event.Timestamp.UnixNano(), b.Event.Timestamp.UnixNano()), cmp.Compare(a.Seq, b.Seq))
	})
	seen := make(map[uint64]bool, len(rows))
	rows = slices.DeleteFunc(rows, func(row segment.Row) bool {
		dup := seen[row.Seq]
		seen[row.Seq] = true
		return dup
	})
	var metas []segmentMeta
	for _, part := range splitPartitions(rows, r.opts.Partition) {
		name := segmentName(r.m.NextID)
		r.m.NextID++
		info, err := segment.Write(filepath.Join(r.dir, "segments", name), part, segment.WriteOptions{FS: r.fs, Encoder: r.enc})
		if err != nil {
			return nil, err
		}
		metas = append(metas, metaOf(name, info))
	}
	return metas, nil
}

// addSegments records metas in the manifest (with sealed raised to at
// least sealed, and the tombstones of the records sealed with them, whose
// purge the next open carries out) and writes it.
func (r *repairer) addSegments(metas []segmentMeta, sealed uint64, tombs ...*tombstone) error {
	m := r.m.clone()
	m.Segments = append(m.Segments, metas...)
	for _, t := range tombs {
		if !slices.ContainsFunc(m.Tombstones, func(o *tombstone) bool { return o.Seq == t.Seq }) {
			m.Tombstones = append(m.Tombstones, t)
		}
	}
	m.SealedSeq = max(m.SealedSeq, sealed)
	if err := writeManifest(r.fs, r.dir, m); err != nil {
		return err
	}
	r.m = m
	return nil
}

func names(metas []segmentMeta) []string {
	out := make([]string, len(metas))
	for i, m := range metas {
		out[i] = m.Name
	}
	return out
}

// checkLive verifies every live segment and moves the damaged ones to
// quarantine/ (with a sidecar), dropping them from the manifest; a missing
// file is dropped and reported lost, as Open would.
func (r *repairer) checkLive() error {
	var kept []segmentMeta
	var gone []SeqRange
	for _, meta := range r.m.Segments {
		err := r.verifyLive(meta)
		if err == nil {
			kept = append(kept, meta)
			continue
		}
		if errors.Is(err, fs.ErrNotExist) {
			lost := SeqRange{First: meta.MinSeq, Last: meta.MaxSeq, Events: meta.Events}
			r.report.Segments = append(r.report.Segments, SegmentRepair{Name: meta.Name, Reason: "file missing", Lost: []SeqRange{lost}})
			gone = append(gone, lost)
			continue
		}
		if !errors.Is(err, segment.ErrCorrupt) {
			return err
		}
		r.log.Warn("eventlog: repair: damaged live segment moved to quarantine", "segment", meta.Name, "err", err)
		if err := r.quarantineLive(meta, err); err != nil {
			return err
		}
	}
	if len(kept) == len(r.m.Segments) {
		return nil
	}
	// Before the manifest forgets the missing files. Quarantined ones are
	// not lost yet: their salvage records what it cannot read.
	if err := r.recordRepairLoss(gone, kept, nil); err != nil {
		return err
	}
	m := r.m.clone()
	m.Segments = kept
	if err := writeManifest(r.fs, r.dir, m); err != nil {
		return err
	}
	r.m = m
	return nil
}

func (r *repairer) verifyLive(meta segmentMeta) error {
	rd, err := segment.Open(filepath.Join(r.dir, "segments", meta.Name), segment.OpenOptions{Decoder: r.dec})
	if err != nil {
		return err
	}
	defer rd.Close()
	return rd.Verify()
}

func (r *repairer) quarantineLive(meta segmentMeta, reason error) error {
	qdir := filepath.Join(r.dir, quarantineDir)
	if err := r.fs.MkdirAll(qdir, 0o755); err != nil {
		return err
	}
	if err := r.fs.Rename(filepath.Join(r.dir, "segments", meta.Name), filepath.Join(qdir, meta.Name)); err != nil {
		return err
	}
	err := writeSidecar(r.fs, r.dir, &quarantineSidecar{segmentMeta: meta, Reason: reason.Error(), QuarantinedAt: time.Now().UTC()})
	return errors.Join(err, r.fs.SyncDir(filepath.Join(r.dir, "segments")))
}

// repairQuarantine salvages every segment file in quarantine/.
func (r *repairer) repairQuarantine() error {
	entries, err := r.fs.ReadDir(filepath.Join(r.dir, quarantineDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".seg") {
			continue
		}
		rep, err := r.salvageSegment(e.Name())
		if err != nil {
			return fmt.Errorf("salvage %s: %w", e.Name(), err)
		}
		r.report.Segments = append(r.report.Segments, rep)
	}
	return nil
}

// salvageSegment writes the good blocks of quarantine/name back as new
// segments (less rows a live segment already holds), then moves the file
// and its sidecar to repaired/. A sidecar
// naming the new segments makes a rerun after a crash skip straight to the
// move when the manifest already lists them.
func (r *repairer) salvageSegment(name string) (SegmentRepair, error) {
	qpath := filepath.Join(r.dir, quarantineDir, name)
	side, err := readSidecar(r.fs, r.dir, name)
	if err != nil {
		return SegmentRepair{}, err
	}
	res, err := segment.Salvage(qpath, r.dec)
	if err != nil {
		return SegmentRepair{}, err
	}
	if side == nil {
		side = &quarantineSidecar{segmentMeta: segmentMeta{Name: name, Events: -1}}
		if res.Footer != nil {
			side.segmentMeta = metaOf(name, *res.Footer)
		}
	}
	rows := r.keepRows(res.Rows, side)
	rep := SegmentRepair{Name: name, Recovered: len(rows), Lost: lostRanges(&res, side, rows), Reason: side.Reason, Corrected: res.Corrected}
	if err := r.recordRepairLoss(rep.Lost, r.m.Segments, rowSet(rows)); err != nil { // before the damaged file goes to repaired/
		return rep, err
	}
	if r.listed(side.RecoveredAs) {
		rep.Segments = side.RecoveredAs // an earlier run got as far as the manifest
	} else if rows, err = r.notLive(rows); err != nil {
		return rep, err
	} else if len(rows) > 0 {
		if rep.Segments, err = r.recordSalvage(rows, side); err != nil {
			return rep, err
		}
	}
	r.log.Info("eventlog: repair: salvaged segment", "segment", name, "recovered", rep.Recovered, "lost", fmt.Sprint(rep.Lost))
	return rep, r.moveRepaired(name)
}

// rowSet reports whether rows hold a sequence number.
func rowSet(rows []segment.Row) func(uint64) bool {
	set := make(map[uint64]bool, len(rows))
	for _, row := range rows {
		set[row.Seq] = true
	}
	return func(seq uint64) bool { return set[seq] }
}

// keepRows drops rows that cannot belong to the segment: outside its known
// sequence range or above the sealed sequence number (only a damaged index
// pointing at a foreign block could produce one; never reuse a number).
func (r *repairer) keepRows(rows []segment.Row, side *quarantineSidecar) []segment.Row {
	return slices.DeleteFunc(rows, func(row segment.Row) bool {
		out := row.Seq == 0 || row.Seq > r.m.SealedSeq
		if side.Events >= 0 {
			out = out || row.Seq < side.MinSeq || row.Seq > side.MaxSeq
		}
		return out
	})
}

// notLive drops the rows a live segment already holds: a damaged leftover
// compaction input whose output a manifest rebuild kept.
func (r *repairer) notLive(rows []segment.Row) ([]segment.Row, error) {
	var err error
	rows = slices.DeleteFunc(rows, func(row segment.Row) bool {
		held, herr := r.liveHolds(row.Seq)
		err = cmp.Or(err, herr)
		return held
	})
	return rows, err
}

// recordSalvage writes rows as segments, notes them in the sidecar, then
// lists them in the manifest.
func (r *repairer) recordSalvage(rows []segment.Row, side *quarantineSidecar) ([]string, error) {
	metas, err := r.writeRows(rows)
	if err != nil {
		return nil, err
	}
	side.RecoveredAs = names(metas)
	if err := writeSidecar(r.fs, r.dir, side); err != nil {
		return nil, err
	}
	return side.RecoveredAs, r.addSegments(metas, 0)
}

// listed reports whether the manifest lists every one of names (and there
// is at least one).
func (r *repairer) listed(names []string) bool {
	for _, n := range names {
		if !slices.ContainsFunc(r.m.Segments, func(s segmentMeta) bool { return s.Name == n }) {
			return false
		}
	}
	return len(names) > 0
}

// lostRanges says which sequence numbers the salvage lost: the ranges of
// the lost blocks whose index entries were read (exact), and when the block
// index was damaged, the rest of the file's events (from the sidecar or
// footer) not accounted for, bounded by the lowest and highest of the
// file's sequence numbers that came back from no block.
func lostRanges(res *segment.SalvageResult, side *quarantineSidecar, rows []segment.Row) []SeqRange {
	var out []SeqRange
	known := 0
	for _, b := range res.Lost() {
		if b.Index >= 0 {
			out = append(out, SeqRange{First: b.MinSeq, Last: b.MaxSeq, Events: b.Rows})
			known += b.Rows
		}
	}
	if res.Complete {
		return out
	}
	if side.Events < 0 {
		return append(out, SeqRange{Events: -1})
	}
	if rest := side.Events - len(rows) - known; rest > 0 {
		out = append(out, unaccounted(side.MinSeq, side.MaxSeq, rows, out, rest))
	}
	return out
}

// unaccounted bounds the n lost events of [first, last] that are neither
// in rows nor in a lost range already reported.
func unaccounted(first, last uint64, rows []segment.Row, lost []SeqRange, n int) SeqRange {
	seqs := make([]uint64, 0, len(rows))
	for _, r := range rows {
		seqs = append(seqs, r.Seq)
	}
	slices.Sort(seqs)
	accounted := func(q uint64) bool {
		_, found := slices.BinarySearch(seqs, q)
		return found || slices.ContainsFunc(lost, func(l SeqRange) bool { return q >= l.First && q <= l.Last })
	}
	for first < last && accounted(first) {
		first++
	}
	for last > first && accounted(last) {
		last--
	}
	return SeqRange{First: first, Last: last, Events: n}
}

// moveRepaired moves quarantine/name and its sidecar to repaired/.
func (r *repairer) moveRepaired(name string) error {
	qdir, rdir := filepath.Join(r.dir, quarantineDir), filepath.Join(r.dir, repairedDir)
	if err := r.fs.MkdirAll(rdir, 0o755); err != nil {
		return err
	}
	for _, n := range []string{name + sidecarExt, name} { // the segment last: it is what marks work to do
		err := r.fs.Rename(filepath.Join(qdir, n), filepath.Join(rdir, n))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return errors.Join(r.fs.SyncDir(rdir), r.fs.SyncDir(qdir))
}

// sidecarExt names the sidecar of a quarantined segment: NAME.seg.json.
const sidecarExt = ".json"

// quarantineSidecar is quarantine/NAME.json: the manifest entry of a
// quarantined segment, why it was set aside and, once Repair has written
// its good blocks back, the segments holding them.
type quarantineSidecar struct {
	segmentMeta
	Reason        string    `json:"reason,omitempty"`
	QuarantinedAt time.Time `json:"quarantined_at,omitzero"`
	RecoveredAs   []string  `json:"recovered_as,omitempty"`
}

func writeSidecar(fsys vfs.FS, dir string, s *quarantineSidecar) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, quarantineDir, s.Name+sidecarExt)
	if err := vfs.WriteFileAtomic(fsys, path, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readSidecar returns the sidecar of quarantine/name, or nil when there is
// none or it is unreadable (Repair then falls back on the file's footer).
func readSidecar(fsys vfs.FS, dir, name string) (*quarantineSidecar, error) {
	path := filepath.Join(dir, quarantineDir, name+sidecarExt)
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s quarantineSidecar
	if err := json.Unmarshal(data, &s); err != nil || s.Name != name {
		return nil, nil
	}
	return &s, nil
}

// splitPartitions cuts rows, sorted by (@timestamp, sequence), where the
// time partition (@timestamp floored to a multiple of partition) changes.
func splitPartitions(rows []segment.Row, partition time.Duration) [][]segment.Row {
	var parts [][]segment.Row
	for len(rows) > 0 {
		p := match.FloorDiv(rows[0].Event.Timestamp.UnixNano(), int64(partition))
		n := 1
		for n < len(rows) && match.FloorDiv(rows[n].Event.Timestamp.UnixNano(), int64(partition)) == p {
			n++
		}
		parts = append(parts, rows[:n:n])
		rows = rows[n:]
	}
	return parts
}
