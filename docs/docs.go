// Package docs holds fieldmint's documentation, embedded so that the
// explorer can serve what it links (docs/scoring.md, the formula a device
// page applies) from the API itself: a link outside the running system
// would break for a network that does not publish its repository.
package docs

import "embed"

// Files are the documents, by file name (scoring.md, api.md, ...).
//
//go:embed *.md
var Files embed.FS
