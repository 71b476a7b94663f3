package dashboard

import (
	"embed"
	"net/http"
	"path"
)

// assets holds the templates, the stylesheet and the script, compiled into the binary:
// the dashboard needs no files at run time and no build step.
//
//go:embed templates/*.html static/*
var assets embed.FS

// staticTypes are the files under static/ and their content types; nothing else is
// served.
var staticTypes = map[string]string{
	"app.css":     "text/css; charset=utf-8",
	"app.js":      "text/javascript; charset=utf-8",
	"favicon.svg": "image/svg+xml",
}

// serveStatic serves the stylesheet and the script. They hold no data, so they are
// served without Authorize (the sign-in page needs its stylesheet).
func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ctype, ok := staticTypes[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	data, err := assets.ReadFile(path.Join("static", name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	_, _ = w.Write(data)
}
