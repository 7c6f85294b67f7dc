package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/s3blob"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Object name suffixes, one per format; List recognizes objects by them.
const (
	ndjsonSuffix  = ".ndjson.gz"
	parquetSuffix = ".parquet"
)

// Open opens the bucket an archive lives in: file://<dir> or
// s3://<bucket>?region=...&endpoint=... (see the package documentation).
// The caller closes the bucket.
func Open(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("archive: bucket URL %q has no scheme (want file:// or s3://)", rawURL)
	}
	switch scheme {
	case "file":
		return openFile(rest)
	case "s3":
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("archive: bucket URL: %w", err)
		}
		q := u.Query()
		if q.Get("endpoint") != "" && q.Get("request_checksum_calculation") == "" {
			q.Set("request_checksum_calculation", "when_required")
			u.RawQuery = q.Encode()
		}
		b, err := (&s3blob.URLOpener{}).OpenBucketURL(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("archive: open s3 bucket: %w", err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("archive: unsupported bucket scheme %q (want file or s3)", scheme)
	}
}

// openFile opens a directory bucket. Metadata sidecar files are not written
// (nothing reads them, and they would double the file count), and temporary
// files go next to their object so that the final rename never crosses
// file systems.
func openFile(rest string) (*blob.Bucket, error) {
	dir, query, _ := strings.Cut(rest, "?")
	if query != "" {
		return nil, fmt.Errorf("archive: file bucket URL takes no options, got %q", query)
	}
	dir, err := url.PathUnescape(dir)
	if err != nil {
		return nil, fmt.Errorf("archive: file bucket path: %w", err)
	}
	if dir == "" {
		return nil, errors.New("archive: file bucket URL has no directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("archive: create bucket directory: %w", err)
	}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{Metadata: fileblob.MetadataDontWrite, NoTempDir: true})
	if err != nil {
		return nil, fmt.Errorf("archive: open file bucket: %w", err)
	}
	return b, nil
}

// List returns the keys of the archive objects under prefix, in key order
// (for one partition, that is log order). Other files, such as a temporary
// file left by a crash, are skipped.
func List(ctx context.Context, bucket *blob.Bucket, prefix string) ([]string, error) {
	var keys []string
	it := bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			return nil, fmt.Errorf("archive: list %q: %w", prefix, err)
		}
		if !obj.IsDir && (strings.HasSuffix(obj.Key, ndjsonSuffix) || strings.HasSuffix(obj.Key, parquetSuffix)) {
			keys = append(keys, obj.Key)
		}
	}
}

// Read returns the events of one archive object, in the order they were
// written. The format follows from the key's suffix.
func Read(ctx context.Context, bucket *blob.Bucket, key string) ([]eventstore.Event, error) {
	data, err := bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("archive: read %s: %w", key, err)
	}
	var events []eventstore.Event
	switch {
	case strings.HasSuffix(key, ndjsonSuffix):
		events, err = decodeNDJSON(data)
	case strings.HasSuffix(key, parquetSuffix):
		events, err = decodeParquet(data)
	default:
		return nil, fmt.Errorf("archive: %s is not an archive object", key)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: decode %s: %w", key, err)
	}
	return events, nil
}

// writeObject writes one object in full. On a file bucket the contents are
// synced before the rename that publishes the object, so after a power loss
// an object is whole or absent, never truncated (the directory entry itself
// is not synced); on S3 a completed upload is durable already.
func writeObject(ctx context.Context, bucket *blob.Bucket, key, contentType string, data []byte) error {
	// Cancelling the writer's context is how a write is abandoned: closing
	// it would publish whatever was written so far.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var file *os.File
	opts := &blob.WriterOptions{
		ContentType: contentType,
		BeforeWrite: func(as func(any) bool) error {
			as(&file) // only file buckets expose their file
			return nil
		},
	}
	w, err := bucket.NewWriter(ctx, key, opts)
	if err != nil {
		return fmt.Errorf("archive: write %s: %w", key, err)
	}
	if _, err := w.Write(data); err != nil {
		cancel()
		_ = w.Close()
		return fmt.Errorf("archive: write %s: %w", key, err)
	}
	if file != nil {
		if err := file.Sync(); err != nil {
			cancel()
			_ = w.Close()
			return fmt.Errorf("archive: sync %s: %w", key, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("archive: write %s: %w", key, err)
	}
	return nil
}
