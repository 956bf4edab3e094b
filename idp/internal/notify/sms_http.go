package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// SMSTimeout bounds one request to an SMS gateway.
const SMSTimeout = 15 * time.Second

// maxGatewayAnswer bounds how much of a gateway's answer is read.
const maxGatewayAnswer = 64 << 10

// gatewayClient is the HTTP client of the SMS senders: bounded in time, and
// never following a redirect (a request carrying credentials goes to the
// configured host only).
func gatewayClient() *http.Client {
	return &http.Client{
		Timeout: SMSTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// sendToGateway sends req and classifies the answer: 2xx is delivered;
// 429, 5xx, a transport error or a timeout may be tried again; any other
// answer (a 3xx, any other 4xx) is Permanent. what names the gateway in
// errors, which carry the status but never the request (its body is the
// message, its header a credential) nor the answer's body.
func sendToGateway(ctx context.Context, client *http.Client, req *http.Request, what string) error {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		// *url.Error repeats the URL, which for a webhook may hold a
		// secret path; say what happened without it.
		var te interface{ Timeout() bool }
		if errors.As(err, &te) && te.Timeout() {
			return fmt.Errorf("%s: timed out", what)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: request failed: %w", what, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxGatewayAnswer))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("%s answered %d; will retry", what, resp.StatusCode)
	}
	return Permanent(fmt.Errorf("%s refused the message: %d", what, resp.StatusCode))
}
