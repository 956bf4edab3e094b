// Package notify owns outbound messages: rendering them from templates, the
// durable outbox they wait in, and their delivery — emails by SMTP or, when
// no SMTP server is configured, as .eml files in the data directory; SMS
// (EnqueueSMS) through an SMSSender: the operator's webhook
// (WebhookSender), a Twilio-compatible API (TwilioSender), or, on a
// loopback issuer without a gateway, JSON files (FileSMSSender). The Worker
// sends each message through the sender of its channel; a gateway's 429,
// 5xx or timeout is retried with back-off, any other refusal (Permanent)
// fails the message at once.
//
// A flow that sends an email renders it, then enqueues it with the change
// that caused it, in one transaction:
//
//	e, err := notify.Render(notify.KindPasswordReset, notify.Data{
//		Name: u.Name, Link: link, Expires: ttl, ExpiresAt: now.Add(ttl),
//	})
//	e.To = u.Email
//	err = st.InTx(ctx, func(tx storage.Storage) error {
//		if err := tx.CreateOneTimeToken(ctx, tok); err != nil {
//			return err
//		}
//		return outbox.Enqueue(ctx, tx, e)
//	})
//
// and, once that has committed, worker.Kick() to deliver it without
// waiting for the next poll.
//
// A Worker claims due messages, delivers them through a Sender, and
// records the outcome: sent (the sealed body is cleared), pending again
// after a growing back-off, or failed for good after Worker.MaxAttempts.
// Several replicas may run workers against one database: the store hands a
// message to one worker at a time.
//
// Bodies are sealed in the database (links carry one-time secrets), and no
// log line written here carries a body or a link, except the one line with
// which FileSender tells a developer where to click.
package notify
