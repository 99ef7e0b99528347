"""The shared kit of the views: permission decorators and load-or-404/403 helpers, the
mapping of service errors to HTTP answers (the one place that decides JSON or HTML),
the base forms, pagination and absolute links. Services never import from here, except
the leaf `web.links` for the absolute links that emails and PDFs carry."""
