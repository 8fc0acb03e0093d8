package eventlog

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strconv"

	"github.com/RoaringBitmap/roaring/v2/roaring64"

	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Honest losses are not tampering. A lossy repair (damaged blocks or WAL
// records it cannot salvage, a segment file gone) and a restore from an
// older backup lose events whose leaves stay in the tree. Each records the
// exact positions it loses in integrity/ERASURES (kind repair or restore)
// *before* the loss takes effect — before the manifest drops what it lost,
// before the restored manifest makes the copy a store — so a crash cannot
// leave them unlabelled. The store is not open then, so the record's
// eraser is 0; the next writable open appends an event recording the fork
// (provider eventlog, action ActionIntegrityFork) and acknowledges the
// record with it (kind fork-recorded), and verify --chain reports each
// position "lost" to that repair or restore instead of "missing". The same
// losses made by hand have no record, so they still read as missing.

// ActionIntegrityFork is the action of the event recording a repair's or
// a restore's loss (provider InternalProvider).
const ActionIntegrityFork = "integrity-fork"

// hasTree reports whether the data directory dir keeps a Merkle tree.
func hasTree(fsys vfs.FS, dir string) (bool, error) {
	_, err := fsys.Stat(filepath.Join(dir, IntegrityDir, integrity.SigningKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// treeLoss returns the sequence numbers of the leaves of the tree in the
// data directory dir that lost says are lost (nil without a tree, or when
// no leaf is).
func treeLoss(fsys vfs.FS, dir string, log *slog.Logger, lost func(seq uint64) (bool, error)) (*roaring64.Bitmap, error) {
	if ok, err := hasTree(fsys, dir); !ok || err != nil {
		return nil, err
	}
	l, err := integrity.Open(filepath.Join(dir, IntegrityDir), integrity.Options{FS: fsys, ReadOnly: true, Logger: log})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	out := roaring64.New()
	var lerr error
	err = l.ForEachLeaf(func(_, seq uint64, _ integrity.Hash, _ [integrity.SaltSize]byte) {
		if lerr != nil {
			return
		}
		is, err := lost(seq)
		lerr = err
		if is {
			out.Add(seq)
		}
	})
	if err = cmp.Or(err, lerr); err != nil {
		return nil, fmt.Errorf("read the leaf log: %w", err)
	}
	return out, nil
}

// recordTreeLoss appends a loss record (kind repair or restore, eraser 0)
// for seqs to the tree of the data directory dir, unless an identical one
// is there already (a repair run again after a crash).
func recordTreeLoss(fsys vfs.FS, dir string, kind integrity.ErasureKind, seqs *roaring64.Bitmap) error {
	idir := filepath.Join(dir, IntegrityDir)
	b, err := vfs.ReadFile(fsys, filepath.Join(idir, integrity.ErasuresFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	prior, _, err := integrity.DecodeErasures(b)
	if err != nil {
		return err
	}
	for _, e := range prior {
		if e.Kind == kind && e.Seqs.Equals(seqs) {
			return nil
		}
	}
	_, err = integrity.AppendErasure(fsys, idir, integrity.Erasure{Kind: kind, Seqs: seqs})
	return err
}

// recordRepairLoss records, before the loss takes effect, the leaves of
// the events in ranges that neither a live segment holds nor kept says
// the repair recovered. Ranges without a known start are left out: their
// positions stay "missing", as nothing says which they are.
func (r *repairer) recordRepairLoss(ranges []SeqRange, live []segmentMeta, kept func(seq uint64) bool) error {
	var known []SeqRange
	for _, rg := range ranges {
		if rg.First != 0 {
			known = append(known, rg)
		}
	}
	if len(known) == 0 {
		return nil
	}
	seqs, err := treeLoss(r.fs, r.dir, r.log, func(seq uint64) (bool, error) {
		for _, rg := range known {
			if seq >= rg.First && (rg.Last == 0 || seq <= rg.Last) {
				if kept != nil && kept(seq) {
					return false, nil
				}
				held, err := r.holdsSeq(live, seq)
				return !held, err
			}
		}
		return false, nil
	})
	if err != nil || seqs == nil || seqs.IsEmpty() {
		return err
	}
	if err := recordTreeLoss(r.fs, r.dir, integrity.LostToRepair, seqs); err != nil {
		return fmt.Errorf("record the Merkle tree positions it loses: %w", err)
	}
	r.report.TreeLost += seqs.GetCardinality()
	return nil
}

// recordRestoreLoss records, in the restored copy dir and before its
// manifest is written, the leaves of its leaf log past the backup's
// sequence number seq: their events became durable while the backup was
// copied, after its point, and the restore loses them. A record is written
// even when there are none, so the restored store's next open records the
// fork (heads signed before the restore may cover positions past it). It
// returns how many positions are lost; a backup without a tree records
// nothing.
func recordRestoreLoss(dir string, seq uint64) (uint64, error) {
	fsys := vfs.OS{}
	seqs, err := treeLoss(fsys, dir, slog.New(slog.DiscardHandler), func(s uint64) (bool, error) { return s > seq, nil })
	if err != nil || seqs == nil {
		return 0, err
	}
	if err := recordTreeLoss(fsys, dir, integrity.LostToRestore, seqs); err != nil {
		return 0, fmt.Errorf("record the Merkle tree positions it loses: %w", err)
	}
	return seqs.GetCardinality(), nil
}

// recordForks appends, for every loss record no event records yet, the
// event recording that fork, and acknowledges the record with it. The
// event's client id is derived from the record, so an open that crashed
// between the two finds it again (deduplicated) instead of storing a
// second one. A failure is logged: the positions stay labelled by the
// record; the next open tries again.
func (db *DB) recordForks(ctx context.Context) {
	if db.integrity == nil || db.opts.ReadOnly {
		return
	}
	if err := db.recordForksErr(ctx); err != nil {
		db.log.Error("eventlog: recording a repair's or restore's loss as an event failed; the next open tries again", "err", err)
	}
}

func (db *DB) recordForksErr(ctx context.Context) error {
	es, err := db.integrity.Erasures()
	if err != nil {
		return err
	}
	for _, i := range integrity.UnrecordedForks(es) {
		ev, err := forkEvent(i, es[i])
		if err != nil {
			return err
		}
		res, err := db.append(ctx, true, []Event{ev})
		if err != nil {
			return fmt.Errorf("record the %s fork: %w", es[i].Kind, err)
		}
		if res.Items != nil && res.Items[0].Result == Conflict {
			return fmt.Errorf("record the %s fork: the client id %s names another event (seq %d)", es[i].Kind, ev.ClientID, res.Seq(0))
		}
		seq := res.Seq(0)
		if err := db.integrity.RecordErasure(integrity.Erasure{Eraser: seq, Kind: integrity.ForkRecorded, Seqs: roaring64.BitmapOf(uint64(i))}); err != nil {
			return fmt.Errorf("acknowledge the %s fork with event %d: %w", es[i].Kind, seq, err)
		}
		db.log.Warn("eventlog: recorded a fork of the Merkle tree", "cause", es[i].Kind.String(), "lost", es[i].Seqs.GetCardinality(), "event", IDOf(seq))
	}
	return nil
}

// forkEvent is the event recording the loss record i, e. It has no
// @timestamp (the store stamps it), so a retry after a crash has the same
// content and is deduplicated by its client id, which hashes the record.
func forkEvent(i int, e integrity.Erasure) (Event, error) {
	bm, err := e.Seqs.ToBytes()
	if err != nil {
		return Event{}, err
	}
	h := sha256.New()
	h.Write([]byte{byte(e.Kind)})
	h.Write(strconv.AppendInt(nil, int64(i), 10))
	h.Write(bm)
	sum := h.Sum(nil)
	var ev Event
	ev.ClientID = "eventlog-fork-" + hex.EncodeToString(sum[:16])
	ev.Event.Provider, ev.Event.Action, ev.Event.Outcome = InternalProvider, ActionIntegrityFork, "success"
	ev.Event.Reason = e.Kind.String()
	n := e.Seqs.GetCardinality()
	ev.Message = fmt.Sprintf("the %s lost %d events whose leaves the Merkle tree keeps", e.Kind, n)
	if n > 0 {
		ev.Message += fmt.Sprintf(" (sequence %d to %d)", e.Seqs.Minimum(), e.Seqs.Maximum())
	}
	ev.Labels = map[string]string{
		"cause": e.Kind.String(), "lost": strconv.FormatUint(n, 10),
		"erasure_record": strconv.Itoa(i), "lost_sha256": hex.EncodeToString(sha256Of(bm)),
	}
	return ev, nil
}

func sha256Of(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
