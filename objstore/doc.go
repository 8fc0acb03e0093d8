// Package objstore is eventlog's door to object storage: a small interface
// (Store) over the few operations tiering needs — put with a content
// checksum and an optional conditional create (If-None-Match: *), get,
// ranged get, head and delete — with two implementations: S3 (any
// S3-compatible server: AWS S3, MinIO, Ceph RGW, versitygw; built on
// minio-go) and Dir (a local directory, which serves tests and is the
// model S3 is compared against).
//
// Keys are relative to the store's prefix and use '/' as separator. A
// store never lists: readers of a bucket find objects by name only,
// because not every S3-compatible server lists consistently.
//
// Errors name the store and key (Store.String), and wrap ErrNotFound for a
// missing object and ErrPrecondition when a conditional create found the
// key taken, so callers test them with errors.Is whatever the backend.
package objstore
