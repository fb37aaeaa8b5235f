package credentials

import "regexp"

// urlInText finds the URLs of free text: pip option lines
// (--index-url URL), variable values.
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"']+`)

// URLs are the URLs in text, in order.
func URLs(text string) []string { return urlInText.FindAllString(text, -1) }

// StripText is text with every URL in it stripped of its credentials
// (Strip); a URL Strip cannot read back is kept as it is.
func StripText(text string) string {
	return urlInText.ReplaceAllStringFunc(text, func(u string) string {
		if bare := Strip(u); bare != "" {
			return bare
		}
		return u
	})
}
