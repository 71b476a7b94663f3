package cloud

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Request headers besides Content-Type, Content-Encoding and Authorization.
const (
	HeaderWireVersion = "Edgeoutbox-Wire-Version"
	HeaderBatchID     = "Edgeoutbox-Batch-Id"
	HeaderKind        = "Edgeoutbox-Kind"
)

// sendResult is how one request went.
type sendResult struct {
	err        error         // nil: accepted
	retry      bool          // worth sending again (down, 5xx, 408, 429, timeout)
	retryAfter time.Duration // the server's Retry-After, 0 if none
}

type sender struct {
	client   *http.Client
	endpoint string
	apiKey   string
	timeout  time.Duration
}

// send POSTs one gzip'd body, bounded by the timeout.
func (s *sender) send(ctx context.Context, kind, batchID string, body []byte) sendResult {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return sendResult{err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	req.Header.Set("User-Agent", "edgeoutbox-cloud/"+strconv.Itoa(WireVersion))
	req.Header.Set(HeaderWireVersion, strconv.Itoa(WireVersion))
	req.Header.Set(HeaderBatchID, batchID)
	req.Header.Set(HeaderKind, kind)
	resp, err := s.client.Do(req)
	if err != nil {
		return sendResult{err: fmt.Errorf("post %s: %w", kind, err), retry: true}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return sendResult{}
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode >= 500:
		return sendResult{
			err:        fmt.Errorf("post %s: endpoint answered %s", kind, resp.Status),
			retry:      true,
			retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	default:
		return sendResult{err: fmt.Errorf("post %s: endpoint refused it with %s: check Config.Endpoint and Config.APIKey", kind, resp.Status)}
	}
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// backoff is the wait before attempt n+1 after n failures (n ≥ 1): doubling from base,
// capped at max, and never shorter than the server asked for (itself capped at max).
func backoff(n int, base, maxWait, retryAfter time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(max(d, retryAfter), maxWait)
	return d
}
