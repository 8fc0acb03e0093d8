// Package wal is eventlog's write-ahead log: every appended batch is framed,
// checksummed and written to an append-only file before the DB makes it
// visible, and replayed on the next Open.
//
// # Files
//
// The log is a directory of files named by the first sequence number they hold,
// as 20 zero-padded decimal digits ("00000000000000000001.wal"), plus
// "seq.reserved". A new file is started when the current one would pass
// Options.MaxFileBytes; the old file is fsynced first.
//
// # Framing (format version 2, the bytes of version 1; FORMAT.md, section "Write-ahead log", is the reference)
//
// All integers are little-endian, all checksums CRC-32C (Castagnoli).
//
//	file header, 16 bytes:
//	  0  magic "EVWL"   4  version (2)   5  reserved zero (3)   8  first seq uint64 (= file name)
//	record, 24-byte header + payload, one per batch:
//	  0  length uint32 (≤ MaxPayload)    4  count uint32 (≥ 1)  8  first seq uint64
//	  16 hdr CRC of bytes [0,16)         20 CRC of bytes [0,16) ‖ payload
//	  24 payload (opaque to the WAL)
//
// A reader checks the header CRC before trusting length, and bounds length by
// the bytes left in the file and by MaxPayload. Files newer than version 2 are
// refused (ErrUnsupportedVersion); version 1 files are read, and appending
// after one starts a version 2 file. Version 2 only says that payloads may
// hold events with the engine fields _id and _index and with kept unknown
// fields.
//
// # Torn tails and corruption
//
// Damage at the end of the last file — a short header, a length reaching past
// the end, or a checksum mismatch followed only by zero bytes — is an
// interrupted append: Open truncates it (fsyncing the truncation) and logs the
// file, offset and bytes dropped; in read-only mode it is ignored. Damage
// anywhere else fails Open with a *CorruptionError (errors.Is ErrCorrupt),
// unless Options.Repair, which truncates at the damage and drops later files.
//
// # Sequence numbers
//
// Sequence numbers are uint64, start at 1 and never repeat, also across
// restarts, checkpoints that deleted every file, and crashes that lost unsynced
// records: ranges are reserved durably ahead of use in "seq.reserved" (a crash
// leaves a gap, never a reuse); a clean Close gives back the unused rest.
//
// # Durability
//
// Under SyncAlways, Append returns after an fsync covering its record;
// concurrent Appends share fsyncs (group commit). Under SyncInterval a
// background goroutine fsyncs at most every Options.SyncInterval; under
// SyncNone only rotation, Sync and Close fsync. Under SyncAlways the
// kernel is asked to start writing a large record (256 KiB or more) to
// the disk as soon as it is written (sync_file_range on Linux, advice
// only), so the fsync that follows finds it on its way. A failed fsync
// poisons the WAL:
// every later Append fails with ErrPoisoned until it is reopened. A failed
// write (such as ENOSPC) is truncated away and reported without poisoning.
//
// # Replay
//
// Open scans the files in order and hands each record past the checkpoint
// to a callback. With Options.KeepPayloads the callback may keep the
// payloads; with MapPayloads too (a writable log on the operating
// system's files) they are slices of a read-only mapping of the file,
// populated in one call, kept valid by Record.Owner and unmapped once no
// owner is reachable (or at once, for a file none of whose records was
// kept). The log never changes the bytes of a record it handed out: it
// appends past them and truncates only past the last good record.
//
// # Copies elsewhere
//
// A log file is also the unit of a copy kept elsewhere (package tiering's WAL
// chunks in object storage): AppendFileHeader frames records taken from
// AppendFramed as a file, CheckFile checks a whole one in memory strictly (a
// torn tail is corruption there), and FileName names it for a log directory,
// where Open replays it like any other.
package wal
