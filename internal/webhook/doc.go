// Package webhook delivers events to HTTP endpoints as signed CloudEvents.
//
// It is the transport under the webhook sink and the webhook action of
// automations. One call to Sender.Send is one delivery attempt; retries with
// backoff and the dead-letter stream belong to the consumer runtime, which
// asks Retryable whether a failure is worth another attempt.
//
// # Request
//
// Each delivery is a POST whose body is one CloudEvent in structured JSON,
// with these headers:
//
//	Content-Type:               application/cloudevents+json
//	User-Agent:                 Bluepoint-Webhook/1
//	Bluepoint-Event-Id:         <CloudEvent id>
//	Bluepoint-Delivery-Attempt: <1 for the first attempt, 2 for the next, ...>
//	Bluepoint-Timestamp:        <unix seconds at signing>
//	Bluepoint-Signature:        v1=<hex signature>[,v1=<hex signature>...]
//
// The event id stays the same across attempts and redrives, so receivers can
// use it to drop duplicates: delivery is at least once.
//
// # Signature
//
// The v1 signature is the lowercase hex encoding of
//
//	HMAC-SHA256(secret, timestamp + "." + body)
//
// where timestamp is the Bluepoint-Timestamp header value exactly as sent and
// body is the raw request body, byte for byte (verify before parsing JSON).
// Covering the timestamp lets a receiver reject replays of an old request.
//
// To verify, a receiver recomputes the HMAC with its secret, compares it in
// constant time with each v1= value of Bluepoint-Signature, accepts if any
// matches, and then rejects the request if the timestamp is further than a
// few minutes (5 by default) from its own clock. The header may carry several
// v1= values, and a receiver may hold several secrets, so a secret can be
// rotated without a window of failed deliveries. Values with another version
// prefix must be ignored; they leave room for a future scheme. Verify
// implements exactly this and can be used as the reference.
//
// # Redirects
//
// Redirects are never followed: a 3xx answer is a non-retryable failure. A
// signed payload is meant for the endpoint that was configured; following a
// Location header would hand the event (personal data included) and a valid
// signature to whatever host the receiver, or someone who took over its
// domain, points at. A moved endpoint is fixed in configuration.
package webhook
