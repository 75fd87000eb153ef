package demoshop

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// The shop checks one-time codes with its own few lines of RFC 6238 rather
// than the library the agent computes them with (pquerna/otp), so that a
// flow that logs in here tests the agent's codes against an independent
// implementation: a shared bug would pass unseen.

// TOTP parameters of the demo account: RFC 6238's defaults, as every
// authenticator app uses them.
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	// totpSkew is how many steps before and after the current one are
	// accepted: a code typed just as it rolled over, or a clock a little
	// off, still works.
	totpSkew = 1
)

// hotp is RFC 4226's HOTP value of counter for key, as a zero-padded
// decimal string of totpDigits digits.
func hotp(key []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	// Dynamic truncation (RFC 4226 5.3).
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, bin%1_000_000)
}

// totpAt is the code of key for the 30 s window holding t.
func totpAt(key []byte, t time.Time) string {
	return hotp(key, uint64(t.Unix())/uint64(totpStep/time.Second))
}

// checkTOTP reports whether code is key's code at now, or at the step
// before or after it.
func checkTOTP(key []byte, code string, now time.Time) bool {
	code = strings.TrimSpace(code)
	if len(code) != totpDigits {
		return false
	}
	ok := 0
	for d := -totpSkew; d <= totpSkew; d++ {
		want := totpAt(key, now.Add(time.Duration(d)*totpStep))
		// Every candidate is compared, in constant time, so the answer's
		// timing says nothing about which window matched.
		ok |= subtle.ConstantTimeCompare([]byte(want), []byte(code))
	}
	return ok == 1
}

// decodeSeed reads a base32 seed as authenticator apps write it: any case,
// spaces allowed, padding optional.
func decodeSeed(seed string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(seed, " ", ""))
	s = strings.TrimRight(s, "=")
	return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
}
