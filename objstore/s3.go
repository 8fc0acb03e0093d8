package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// S3Config says where an S3 store is and how to reach it. The zero value
// of every field but Bucket is a default.
type S3Config struct {
	// Bucket and Prefix locate the objects (ParseURL reads them from
	// s3://BUCKET/PREFIX). Prefix may be empty; keys are Prefix/KEY.
	Bucket, Prefix string
	// Endpoint is the server: host:port or an http(s) URL. Empty: AWS S3
	// (s3.amazonaws.com). A plain host:port uses TLS unless Insecure.
	Endpoint string
	// Insecure talks plain HTTP to a host:port Endpoint.
	Insecure bool
	// Region of the bucket. Empty: us-east-1 (or what the server says).
	Region string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key), as
	// MinIO, versitygw and Ceph want; false: the SDK's automatic choice
	// (virtual-host style for AWS).
	PathStyle bool
	// AccessKey, SecretKey and SessionToken are static credentials. Empty
	// AccessKey: the standard chain — AWS_ACCESS_KEY_ID /
	// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, MINIO_ROOT_USER /
	// MINIO_ROOT_PASSWORD, ~/.aws/credentials (AWS_PROFILE), then the
	// instance's IAM role.
	AccessKey, SecretKey, SessionToken string
	// SSE is the server-side encryption of every object put: "" (the
	// bucket's default), "AES256" (SSE-S3) or "aws:kms" (SSE-KMS, with
	// KMSKeyID, empty for the account's default key).
	SSE, KMSKeyID string
	// PartSize is the part size of multipart uploads, used for objects
	// larger than it. Zero: 64 MiB.
	PartSize uint64
	// MaxRetries is how often the client itself retries a failed request
	// (5xx, 503 SlowDown, network errors) with its own backoff before the
	// error reaches the caller. Zero: 3.
	MaxRetries int
	// Transport is the HTTP transport. Nil: the client's default.
	Transport http.RoundTripper
}

// ParseURL reads an s3://BUCKET/PREFIX URL into c's Bucket and Prefix.
func (c *S3Config) ParseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return fmt.Errorf("objstore: %q is not an s3://BUCKET/PREFIX URL", raw)
	}
	c.Bucket, c.Prefix = u.Host, strings.Trim(u.Path, "/")
	return nil
}

// S3 is a Store in an S3-compatible bucket, through minio-go.
type S3 struct {
	c    *minio.Client
	cfg  S3Config
	sse  encrypt.ServerSide
	name string
}

// NewS3 returns an S3 store for cfg. It does not contact the server.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("objstore: no bucket")
	}
	host, secure, err := endpoint(cfg)
	if err != nil {
		return nil, err
	}
	sse, err := serverSide(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 64 << 20
	}
	opts := &minio.Options{Creds: chain(cfg), Secure: secure, Region: cfg.Region,
		MaxRetries: cfg.MaxRetries, Transport: cfg.Transport, BucketLookup: minio.BucketLookupAuto}
	if cfg.PathStyle {
		opts.BucketLookup = minio.BucketLookupPath
	}
	c, err := minio.New(host, opts)
	if err != nil {
		return nil, fmt.Errorf("objstore: s3 client for %s: %w", host, err)
	}
	name := "s3://" + cfg.Bucket
	if cfg.Prefix != "" {
		name += "/" + cfg.Prefix
	}
	return &S3{c: c, cfg: cfg, sse: sse, name: name + " at " + host}, nil
}

// endpoint splits cfg.Endpoint into the host and whether to use TLS.
func endpoint(cfg S3Config) (host string, secure bool, err error) {
	switch {
	case cfg.Endpoint == "":
		return "s3.amazonaws.com", true, nil
	case strings.Contains(cfg.Endpoint, "://"):
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", false, fmt.Errorf("objstore: endpoint %q: want host:port or an http(s) URL", cfg.Endpoint)
		}
		return u.Host, u.Scheme == "https", nil
	default:
		return cfg.Endpoint, !cfg.Insecure, nil
	}
}

// chain returns static credentials when given, else the standard chain.
func chain(cfg S3Config) *credentials.Credentials {
	if cfg.AccessKey != "" {
		return credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	}
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
	})
}

// serverSide maps cfg's SSE settings to minio-go's.
func serverSide(cfg S3Config) (encrypt.ServerSide, error) {
	switch cfg.SSE {
	case "":
		return nil, nil
	case "AES256":
		return encrypt.NewSSE(), nil
	case "aws:kms":
		sse, err := encrypt.NewSSEKMS(cfg.KMSKeyID, nil)
		if err != nil {
			return nil, fmt.Errorf("objstore: SSE-KMS: %w", err)
		}
		return sse, nil
	default:
		return nil, fmt.Errorf("objstore: unknown server-side encryption %q (want AES256 or aws:kms)", cfg.SSE)
	}
}

func (s *S3) String() string { return s.name }

// key returns the object name of key under the prefix.
func (s *S3) key(key string) string {
	if s.cfg.Prefix == "" {
		return key
	}
	return s.cfg.Prefix + "/" + key
}

// Put implements Store. Objects larger than PartSize go up in parts;
// every request carries Content-MD5, which the server checks.
func (s *S3) Put(ctx context.Context, key string, r io.ReaderAt, size int64, opts PutOptions) error {
	po := minio.PutObjectOptions{SendContentMd5: true, PartSize: s.cfg.PartSize, UserMetadata: opts.Metadata,
		ServerSideEncryption: s.sse, ContentType: "application/octet-stream", NumThreads: 1}
	if opts.IfNoneMatch {
		po.SetMatchETagExcept("*")
	}
	_, err := s.c.PutObject(ctx, s.cfg.Bucket, s.key(key), io.NewSectionReader(r, 0, size), size, po)
	return s.wrap("put", key, err)
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := s.c.GetObject(ctx, s.cfg.Bucket, s.key(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	if _, err := obj.Stat(); err != nil { // the GET's answer: 404 shows here
		obj.Close()
		return nil, s.wrap("get", key, err)
	}
	return obj, nil
}

// GetRange implements Store.
func (s *S3) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if n <= 0 {
		return nil, nil
	}
	o := minio.GetObjectOptions{}
	if err := o.SetRange(off, off+n-1); err != nil {
		return nil, fmt.Errorf("get range %s/%s: %w", s, key, err)
	}
	obj, err := s.c.GetObject(ctx, s.cfg.Bucket, s.key(key), o)
	if err != nil {
		return nil, s.wrap("get range", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, n))
	if err != nil {
		return nil, s.wrap("get range", key, err)
	}
	return data, nil
}

// Head implements Store.
func (s *S3) Head(ctx context.Context, key string) (Info, error) {
	oi, err := s.c.StatObject(ctx, s.cfg.Bucket, s.key(key), minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.wrap("head", key, err)
	}
	meta := map[string]string{}
	for k, v := range oi.UserMetadata {
		meta[strings.ToLower(k)] = v
	}
	return Info{Size: oi.Size, Metadata: meta}, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	err := s.c.RemoveObject(ctx, s.cfg.Bucket, s.key(key), minio.RemoveObjectOptions{})
	return s.wrap("delete", key, err)
}

// wrap names the operation and object, mapping 404 to ErrNotFound and 412
// to ErrPrecondition.
func (s *S3) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.Code == "NoSuchKey":
		return fmt.Errorf("%s %s/%s: %w", op, s, key, ErrNotFound)
	case resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed":
		return fmt.Errorf("%s %s/%s: %w", op, s, key, ErrPrecondition)
	}
	return fmt.Errorf("%s %s/%s: %w", op, s, key, err)
}
