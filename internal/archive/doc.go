// Package archive writes the event log to blob storage as compressed batch
// objects, reads them back, and checks an archive against the store.
//
// # Layout
//
// Objects are partitioned by stream and by the UTC date the events were
// recorded, so that a day of one stream can be fetched or expired on its own:
//
//	stream=<name>/date=<yyyy-mm-dd>/<first global>-<last global>-<random>.ndjson.gz
//	stream=<name>/date=<yyyy-mm-dd>/<first global>-<last global>-<random>.parquet
//
// The positions are zero-padded to 20 digits so that keys sort in log order;
// the random suffix keeps two objects with the same range (a retry) apart
// instead of one silently replacing the other.
//
// # Formats
//
// NDJSON objects hold one JSON object per line, gzip-compressed:
//
//	{"id":..., "stream_id":..., "stream_version":..., "position":{"tx_id":...,"global":...},
//	 "type":..., "schema_version":..., "data":{...}, "metadata":{...}, "recorded_at":...}
//
// Parquet objects hold the same fields as columns (position as a group, data
// and metadata as JSON strings, recorded_at as a nanosecond timestamp), for
// query engines that read Parquet directly.
//
// # Delivery contract
//
// A Writer reports an object only after it was written in full (the blob
// writer closed without error), so a caller that acknowledges events upstream
// only for reported objects never loses an event: an event not yet reported
// is either still buffered or will be delivered again. The reverse is not
// guaranteed. A crash between writing an object and acknowledging its events
// makes the source deliver them again, and they land in a second object.
// Verify finds such duplicates (and missing events) by comparing every object
// with the store; readers of the archive should deduplicate by event id.
//
// # Buckets
//
// Open takes a URL. file://<dir> keeps objects under a local directory (created
// if needed; relative paths are allowed, for example file://./data/archive).
// s3://<bucket>?region=<region> writes to Amazon S3 with the default AWS
// credential chain. For S3-compatible stores add endpoint=<url> and usually
// use_path_style=true (and disable_https=true for a plain-HTTP endpoint); when
// an endpoint is given, request_checksum_calculation defaults to
// when_required, because many such stores reject the checksums newer AWS SDKs
// send by default.
package archive
