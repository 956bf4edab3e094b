package server

import (
	"context"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/password"
)

// accounts builds the account use cases the pages run, and those of
// clinicians' mobile credentials, with the outbox they queue email and SMS
// in, and starts the worker that delivers it until ctx ends. The worker
// runs on every replica; the store hands each message to one worker at a
// time.
func accounts(ctx context.Context, d Deps) (*account.Service, *account.Mobile, error) {
	cfg := d.Config
	policy := password.DefaultPolicy()
	if cfg.PasswordMinLength != 0 {
		p, err := password.NewPolicy(cfg.PasswordMinLength)
		if err != nil {
			return nil, nil, err
		}
		policy = p
	}
	outbox, err := notify.NewOutbox(d.KEK)
	if err != nil {
		return nil, nil, err
	}
	sender := d.Sender
	if sender == nil {
		if sender, err = notify.NewSender(cfg, d.Logger); err != nil {
			return nil, nil, err
		}
	}
	sms := d.SMSSender
	if sms == nil {
		if sms, err = notify.NewSMSSender(cfg, d.Logger); err != nil {
			return nil, nil, err
		}
	}
	worker := &notify.Worker{
		Store: d.Store, Outbox: outbox, Sender: sender, SMS: sms, Logger: d.Logger, Now: d.Now,
		Poll: d.MailPoll, Wake: make(chan struct{}, 1),
	}
	go func() { _ = worker.Run(ctx) }()
	acct := &account.Service{
		Store: d.Store, Hasher: d.Hasher, Policy: policy, Logger: d.Logger, Now: d.Now,
		Outbox: outbox, Issuer: cfg.Issuer,
		ResetTTL: cfg.ResetTTL, InviteTTL: cfg.InviteTTL, EmailChangeTTL: cfg.EmailChangeTTL,
		Queued: worker.Kick,
	}
	mobile, err := account.NewMobile(acct, d.KEK, sms != nil)
	if err != nil {
		return nil, nil, err
	}
	return acct, mobile, nil
}
