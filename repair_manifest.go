package eventlog

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/segment"
)

// Manifest rebuild. A damaged MANIFEST fails Open; Repair rebuilds it from
// what is on disk: the segment files describe themselves (footer: event
// count, time and sequence ranges), MANIFEST.prev supplies what only a
// manifest knows (each segment's purge level, the sealed sequence number
// as of one write earlier), TOMBSTONES and the WAL the deletes by query,
// and the WAL the events no segment holds (FORMAT.md, "Rebuilding the
// manifest").

// supersededDir keeps segment files a rebuild found covered by a newer
// segment: leftover inputs of an interrupted compaction or purge.
const supersededDir = "superseded"

// ManifestRepair is the manifest part of a RepairReport: what a rebuild of
// a damaged MANIFEST found.
type ManifestRepair struct {
	// Reason is why MANIFEST could not be used.
	Reason string
	// Previous is "" when MANIFEST.prev was used, else why it was not.
	Previous string
	// Segments are the segment files the rebuilt manifest lists.
	Segments []string
	// Superseded are the files moved to superseded/: each shares sequence
	// numbers with a newer segment (a leftover compaction or purge input).
	Superseded []string
	// Quarantined are the files found damaged (salvaged like any
	// quarantined segment; see RepairReport.Segments).
	Quarantined []string
	// Missing are the segments MANIFEST.prev lists that are not on disk
	// (replaced or dropped after it was written, or lost).
	Missing []string
	// Rescued counts the events of WAL records at or below the rebuilt
	// sealed_seq that no segment held (an interrupted seal), written as
	// the segments in Segments; events hidden by a tombstone are not.
	Rescued int
	// Tombstones counts the deletes by query the rebuilt manifest carries.
	Tombstones int
	// ReadOnly is why the store now opens read-only (its READONLY marker):
	// the rebuild could not prove it has every tombstone. "" otherwise.
	ReadOnly string
}

// diskSegment is a segment file found by a rebuild.
type diskSegment struct {
	id   uint64
	meta segmentMeta
}

// rebuildManifest replaces a damaged MANIFEST (cause) by one rebuilt from
// the files on disk, and makes it r.m.
func (r *repairer) rebuildManifest(cause error) error {
	rep := &ManifestRepair{Reason: cause.Error()}
	r.report.Manifest = rep
	r.log.Warn("eventlog: repair: rebuilding the manifest", "err", cause)
	prev, _, err := readManifestFile(r.fs, r.dir, manifestPrevFile)
	if err != nil {
		rep.Previous, prev = err.Error(), nil
	}
	segs, err := r.diskSegments(prev, rep)
	if err != nil {
		return err
	}
	kept, err := r.dropSuperseded(segs, rep)
	if err != nil {
		return err
	}
	m := &manifest{Version: manifestVersion, NextID: 1}
	if prev != nil {
		m.NextID = prev.NextID
	}
	if m.NextID, err = r.nextID(m.NextID); err != nil {
		return err
	}
	m.SealedSeq = r.sealedFloor
	for _, s := range kept {
		m.Segments = append(m.Segments, s.meta)
		m.SealedSeq = max(m.SealedSeq, s.meta.MaxSeq)
	}
	r.m = m
	proof, err := r.rescueWAL(prev, rep)
	if err != nil {
		return err
	}
	return r.writeRebuilt(rep, proof)
}

// diskSegments opens every segment file in segments/, newest first;
// damaged ones go to quarantine/ for salvage.
func (r *repairer) diskSegments(prev *manifest, rep *ManifestRepair) ([]*diskSegment, error) {
	entries, err := r.fs.ReadDir(filepath.Join(r.dir, "segments"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	listed := map[string]segmentMeta{}
	if prev != nil {
		for _, s := range prev.Segments {
			listed[s.Name] = s
		}
	}
	var out []*diskSegment
	for _, e := range entries {
		id, ok := segmentID(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		s, err := r.diskSegment(id, e.Name(), listed, rep)
		if err != nil {
			return nil, err
		}
		if s != nil {
			out = append(out, s)
		}
		delete(listed, e.Name())
	}
	for name := range listed {
		rep.Missing = append(rep.Missing, name)
	}
	slices.Sort(rep.Missing)
	slices.SortFunc(out, func(a, b *diskSegment) int { return cmp.Compare(b.id, a.id) })
	return out, nil
}

// diskSegment opens one segment file for a rebuild: nil when it is damaged
// (then quarantined, with MANIFEST.prev's entry as its sidecar when it has
// one).
func (r *repairer) diskSegment(id uint64, name string, listed map[string]segmentMeta, rep *ManifestRepair) (*diskSegment, error) {
	rd, err := segment.Open(filepath.Join(r.dir, "segments", name), segment.OpenOptions{Decoder: r.dec})
	if err == nil {
		meta := metaOf(name, rd.Info())
		meta.Purged = listed[name].Purged // a purge level belongs to the file's contents
		return &diskSegment{id: id, meta: meta}, rd.Close()
	}
	if !errors.Is(err, segment.ErrCorrupt) {
		return nil, err
	}
	meta, err2 := r.damagedMeta(name, listed)
	if err2 != nil {
		return nil, err2
	}
	rep.Quarantined = append(rep.Quarantined, name)
	return nil, r.quarantineLive(meta, err)
}

// damagedMeta describes a damaged segment file for its sidecar (from
// MANIFEST.prev, else its footer, else its readable blocks) and notes the
// sequence numbers its salvage will bring back: the rebuilt sealed_seq
// covers them, and the WAL rescue leaves them to it.
func (r *repairer) damagedMeta(name string, listed map[string]segmentMeta) (segmentMeta, error) {
	res, err := segment.Salvage(filepath.Join(r.dir, "segments", name), r.dec)
	if err != nil {
		return segmentMeta{}, err
	}
	meta, ok := listed[name]
	switch {
	case ok:
	case res.Footer != nil:
		meta = metaOf(name, *res.Footer)
	default:
		meta = segmentMeta{Name: name, Events: -1}
	}
	for _, row := range res.Rows {
		if meta.Events >= 0 && (row.Seq < meta.MinSeq || row.Seq > meta.MaxSeq) {
			continue // as keepRows will
		}
		r.salvaged = append(r.salvaged, row.Seq)
		r.sealedFloor = max(r.sealedFloor, row.Seq)
	}
	if meta.Events >= 0 {
		r.sealedFloor = max(r.sealedFloor, meta.MaxSeq)
	}
	return meta, nil
}

// dropSuperseded keeps, newest first, each segment that shares no sequence
// number with a newer one kept, and moves the others to superseded/: a
// compaction's or purge's output has a higher id than its inputs, and one
// sequence number is never in two live segments.
func (r *repairer) dropSuperseded(segs []*diskSegment, rep *ManifestRepair) ([]*diskSegment, error) {
	var kept []*diskSegment
	for _, s := range segs {
		dup, err := r.sharesSeqs(s, kept)
		if err != nil {
			return nil, err
		}
		if !dup {
			kept = append(kept, s)
			continue
		}
		if err := r.moveSuperseded(s.meta.Name); err != nil {
			return nil, err
		}
		rep.Superseded = append(rep.Superseded, s.meta.Name)
	}
	slices.Reverse(kept)
	slices.Sort(rep.Superseded)
	return kept, nil
}

// sharesSeqs reports whether s holds a sequence number one of kept holds.
func (r *repairer) sharesSeqs(s *diskSegment, kept []*diskSegment) (bool, error) {
	for _, k := range kept {
		if k.meta.MaxSeq < s.meta.MinSeq || k.meta.MinSeq > s.meta.MaxSeq {
			continue
		}
		a, err := r.seqsOf(s.meta)
		if err != nil {
			return false, err
		}
		b, err := r.seqsOf(k.meta)
		if err != nil {
			return false, err
		}
		if intersects(a, b) {
			return true, nil
		}
	}
	return false, nil
}

// seqsOf loads (once) the sorted sequence numbers of the live segment
// file meta names.
func (r *repairer) seqsOf(meta segmentMeta) ([]uint64, error) {
	if seqs, ok := r.seqs[meta.Name]; ok {
		return seqs, nil
	}
	rd, err := segment.Open(filepath.Join(r.dir, "segments", meta.Name), segment.OpenOptions{Decoder: r.dec})
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	seqs := make([]uint64, 0, max(meta.Events, 0))
	for bi := range rd.Blocks() {
		_, q, err := rd.Keys(bi)
		if err != nil {
			return nil, err
		}
		seqs = append(seqs, q...)
	}
	slices.Sort(seqs)
	if r.seqs == nil {
		r.seqs = map[string][]uint64{}
	}
	r.seqs[meta.Name] = seqs
	return seqs, nil
}

// liveHolds reports whether a segment the manifest lists holds seq.
func (r *repairer) liveHolds(seq uint64) (bool, error) { return r.holdsSeq(r.m.Segments, seq) }

// holdsSeq reports whether one of segs holds seq.
func (r *repairer) holdsSeq(segs []segmentMeta, seq uint64) (bool, error) {
	for _, s := range segs {
		if seq < s.MinSeq || seq > s.MaxSeq {
			continue
		}
		seqs, err := r.seqsOf(s)
		if err != nil {
			return false, err
		}
		if _, ok := slices.BinarySearch(seqs, seq); ok {
			return true, nil
		}
	}
	return false, nil
}

// intersects reports whether the sorted lists a and b share a value.
func intersects(a, b []uint64) bool {
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] == b[0]:
			return true
		case a[0] < b[0]:
			a = a[1:]
		default:
			b = b[1:]
		}
	}
	return false
}

// moveSuperseded moves segments/name to superseded/ (never deleting it).
func (r *repairer) moveSuperseded(name string) error {
	dst := filepath.Join(r.dir, supersededDir)
	if err := r.fs.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if err := r.fs.Rename(filepath.Join(r.dir, "segments", name), filepath.Join(dst, name)); err != nil {
		return err
	}
	r.log.Warn("eventlog: repair: segment superseded by a newer one moved aside", "segment", name, "to", dst)
	return errors.Join(r.fs.SyncDir(dst), r.fs.SyncDir(filepath.Join(r.dir, "segments")))
}

// nextID returns a segment number above every segment file anywhere in the
// data directory (live, temporary, quarantined, repaired, superseded) and
// at least floor.
func (r *repairer) nextID(floor uint64) (uint64, error) {
	next := max(floor, 1)
	for _, d := range []string{"segments", quarantineDir, repairedDir, supersededDir} {
		entries, err := r.fs.ReadDir(filepath.Join(r.dir, d))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		for _, e := range entries {
			name, _, _ := strings.Cut(e.Name(), ".seg")
			if id, ok := segmentID(name + ".seg"); ok {
				next = max(next, id+1)
			}
		}
	}
	return next, nil
}

// tombstoneProof is what a rebuild knows of the deletes by query.
type tombstoneProof struct {
	tombs tombstones
	// missing is why the rebuild cannot prove tombs holds every pending
	// tombstone, "" when it can.
	missing string
}

// rescueWAL raises the rebuilt sealed_seq to the end of its WAL record,
// writes as segments the events of WAL records at or below it that no
// segment holds and no tombstone hides, and gathers the tombstones of
// TOMBSTONES, MANIFEST.prev and the WAL.
func (r *repairer) rescueWAL(prev *manifest, rep *ManifestRepair) (*tombstoneProof, error) {
	lower := uint64(0) // every event up to MANIFEST.prev's sealed_seq is in a segment or gone for good
	if prev != nil {
		lower = prev.SealedSeq
	}
	scan, err := salvageWAL(r.fs, filepath.Join(r.dir, "wal"), lower)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("scan the WAL: %w", err)
	}
	if scan == nil {
		scan = &walScan{}
	}
	proof := r.tombstoneProof(prev, lower, scan)
	// Rows a hold pins are rescued even if a later delete selects them: a
	// hold wins until it is released.
	pinned, err := readHolds(r.fs, r.dir)
	if err != nil {
		return nil, err
	}
	r.m.SealedSeq = recordEnd(scan.records, r.m.SealedSeq)
	slices.Sort(r.salvaged)
	var rescue []segment.Row
	for _, row := range scan.rows {
		if _, salvaged := slices.BinarySearch(r.salvaged, row.Seq); salvaged || row.Seq > r.m.SealedSeq || pinned.erases(proof.tombs, row.Seq, row.Event) {
			continue
		}
		held, err := r.liveHolds(row.Seq)
		if err != nil {
			return nil, err
		}
		if !held {
			rescue = append(rescue, row)
		}
	}
	if len(rescue) > 0 {
		metas, err := r.writeRows(rescue)
		if err != nil {
			return nil, err
		}
		r.m.Segments = append(r.m.Segments, metas...)
		rep.Rescued = len(rescue)
	}
	return proof, nil
}

// recordEnd raises sealed to the end of the WAL record holding it: replay
// inserts whole records, so sealed_seq must end one (the record's other
// events are then rescued unless a segment holds them).
func recordEnd(records [][2]uint64, sealed uint64) uint64 {
	for _, rec := range records {
		if rec[0] <= sealed && sealed < rec[1] {
			return rec[1]
		}
	}
	return sealed
}

// tombstoneProof gathers the tombstones and says whether they are proven
// complete: TOMBSTONES is intact (it holds those of the damaged manifest),
// or MANIFEST.prev is intact and the WAL, undamaged, still holds every
// record after its sealed_seq (so every delete made since is in it).
func (r *repairer) tombstoneProof(prev *manifest, lower uint64, scan *walScan) *tombstoneProof {
	file, ferr := readTombstonesFile(r.fs, r.dir)
	p := &tombstoneProof{tombs: unionTombstones(file, scan.tombs)}
	if prev != nil {
		p.tombs = unionTombstones(p.tombs, prev.Tombstones)
	}
	if ferr == nil {
		return p
	}
	walWhole := scan.firstSeq != 0 && scan.firstSeq <= lower+1 && !slices.ContainsFunc(scan.damage, func(d WALDamage) bool { return !d.Torn })
	if prev != nil && walWhole {
		return p
	}
	why := "missing"
	if !errors.Is(ferr, fs.ErrNotExist) {
		why = "damaged (" + ferr.Error() + ")"
	}
	p.missing = fmt.Sprintf("the manifest was rebuilt from the files on disk, and %s is %s", tombstonesFile, why)
	if prev == nil {
		p.missing += " and so is " + manifestPrevFile
	} else {
		p.missing += " and the WAL no longer holds every record since " + manifestPrevFile
	}
	p.missing += ": a delete by query may be missing, so events it deleted may be visible again. Re-run your deletes (eventlog delete), then delete this file"
	return p
}

// writeRebuilt keeps the damaged MANIFEST in repaired/, writes the
// READONLY marker when the tombstones are not proven complete (before the
// manifest, so no open can take writes in between), then the manifest.
func (r *repairer) writeRebuilt(rep *ManifestRepair, proof *tombstoneProof) error {
	if data, err := vfs.ReadFile(r.fs, filepath.Join(r.dir, manifestFile)); err == nil {
		if err := r.fs.MkdirAll(filepath.Join(r.dir, repairedDir), 0o755); err != nil {
			return err
		}
		if err := vfs.WriteFileAtomic(r.fs, filepath.Join(r.dir, repairedDir, manifestFile+".damaged"), data); err != nil {
			return err
		}
	}
	if proof.missing != "" {
		if err := writeReadOnly(r.fs, r.dir, proof.missing); err != nil {
			return err
		}
		rep.ReadOnly = proof.missing
		r.log.Error("eventlog: repair: the store will open read-only", "reason", proof.missing)
	}
	r.m.Tombstones = proof.tombs
	rep.Tombstones = len(proof.tombs)
	rep.Segments = names(r.m.Segments)
	return writeManifest(r.fs, r.dir, r.m)
}
