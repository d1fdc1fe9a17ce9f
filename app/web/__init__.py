"""What only the web layer needs: absolute links and signed references, security headers, Jinja
filters. Services never import from here; routes and tasks hand them `links.WebLinks`."""
