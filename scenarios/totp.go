package scenarios

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gopkg.in/yaml.v3"
)

// ${totp:NAME} is the current RFC 6238 code of the secret var NAME: a
// base32 seed, or an otpauth:// URI whose algorithm, digits and period are
// honoured. It is computed when the step runs (see Flow.Bind).
const totpPrefix = "totp:"

// totpMinLeft is how long a code must stay valid once typed: a code that
// expires sooner is likely stale by the time the site checks it (typing,
// a submit, a round trip), so the step waits for the next one.
const totpMinLeft = 3 * time.Second

// totpKey is a parsed seed.
type totpKey struct {
	secret string // base32, as pquerna/otp takes it
	raw    string // the secret as written, masked too
	opts   totp.ValidateOpts
}

// parseTOTPSeed reads a base32 seed or an otpauth://totp/ URI. Its errors
// never quote the seed.
func parseTOTPSeed(s string) (totpKey, error) {
	s = strings.TrimSpace(s)
	k := totpKey{opts: totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}}
	if strings.HasPrefix(strings.ToLower(s), "otpauth://") {
		key, err := otp.NewKeyFromURL(s)
		if err != nil {
			return k, errors.New("it is not a valid otpauth:// URI")
		}
		if !strings.EqualFold(key.Type(), "totp") {
			return k, fmt.Errorf("it is an otpauth://%s URI; only otpauth://totp/ (time-based) codes are supported", clip(key.Type()))
		}
		q := strings.ToLower(queryParam(s, "algorithm"))
		switch q {
		case "", "sha1":
		case "sha256":
			k.opts.Algorithm = otp.AlgorithmSHA256
		case "sha512":
			k.opts.Algorithm = otp.AlgorithmSHA512
		default:
			return k, fmt.Errorf("its algorithm %q is not one of SHA1, SHA256, SHA512", clip(q))
		}
		if d := queryParam(s, "digits"); d != "" {
			n, err := strconv.Atoi(d)
			if err != nil || n < 6 || n > 10 {
				return k, fmt.Errorf("its digits %q is not a number from 6 to 10", clip(d))
			}
			k.opts.Digits = otp.Digits(n)
		}
		if p := queryParam(s, "period"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 3600 {
				return k, fmt.Errorf("its period %q is not a number of seconds from 1 to 3600", clip(p))
			}
			k.opts.Period = uint(n)
		}
		s = key.Secret()
		if s == "" {
			return k, errors.New("the otpauth:// URI has no secret parameter")
		}
	}
	// The normalisation pquerna/otp applies: no spaces, padding optional,
	// lower case accepted.
	norm := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if n := len(norm) % 8; n != 0 {
		norm += strings.Repeat("=", 8-n)
	}
	if b, err := base32.StdEncoding.DecodeString(norm); err != nil || len(b) == 0 {
		return k, errors.New("it is not a base32 seed (letters A-Z and digits 2-7) nor an otpauth://totp/ URI")
	}
	k.secret, k.raw = norm, s
	return k, nil
}

// queryParam reads a URI's query parameter.
func queryParam(uri, name string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return u.Query().Get(name)
}

// code is the key's code at t, and how long it stays valid.
func (k totpKey) code(t time.Time) (string, time.Duration, error) {
	c, err := totp.GenerateCodeCustom(k.secret, t, k.opts)
	if err != nil {
		return "", 0, err
	}
	period := time.Duration(k.opts.Period) * time.Second
	start := time.Unix(t.Unix()-t.Unix()%int64(k.opts.Period), 0)
	return c, start.Add(period).Sub(t), nil
}

// checkTOTP checks, at load, a ${totp:NAME} in a step's value: NAME must be
// a var listed in secrets, and its seed must parse.
func (p *parser) checkTOTP(n *yaml.Node, name string) {
	if p.runtime == nil || p.inVars {
		p.errorf(n, "${totp:%s} is a one-time code computed when a step runs; use it in a step's value, not here", clip(name))
		return
	}
	seed, isVar := p.vars[name]
	if !isVar {
		p.errorf(n, "${totp:%s}: %s is not one of the flow's vars; define it in vars (usually from ${env:...}) and list it in secrets", clip(name), clip(name))
		return
	}
	if !p.secretNames[name] {
		p.errorf(n, "${totp:%s}: the var %s holds a one-time-code seed, which is a secret; list it in secrets", clip(name), clip(name))
		return
	}
	k, err := parseTOTPSeed(seed)
	if err != nil {
		p.errorf(n, "${totp:%s}: the seed in var %s does not parse: %v", clip(name), clip(name), err)
		return
	}
	// A URI's seed is masked on its own too, not only the whole URI.
	p.totpSecrets = append(p.totpSecrets, strings.TrimRight(k.secret, "="), k.raw)
}

// totpCode computes ${totp:name} for a step about to run, waiting for the
// next code when the current one expires within totpMinLeft. The code is
// masked in everything the run reports from now on.
func (f *Flow) totpCode(ctx context.Context, name string, vars *RunVars) (string, error) {
	k, err := parseTOTPSeed(f.vars[name])
	if err != nil {
		return "", Fail(KindScript, "${totp:%s}: the seed in var %s does not parse: %v", name, name, err)
	}
	now, sleep := vars.clock()
	c, left, err := k.code(now())
	if err == nil && left < totpMinLeft && time.Duration(k.opts.Period)*time.Second > totpMinLeft {
		if err := sleep(ctx, left); err != nil {
			return "", Fail(KindTimeout, "${totp:%s}: the step's time ran out while waiting %s for the next one-time code", name, left.Round(time.Millisecond))
		}
		c, _, err = k.code(now())
	}
	if err != nil {
		return "", Fail(KindScript, "${totp:%s}: %v", name, err)
	}
	f.AddSecretValue(c)
	return c, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
