"""Pictures of the routing: one small graph model, drawn as Mermaid, as a self-contained SVG and as an HTML page.

    graph.py     what the picture shows: nodes (route, authorization, integration, service + filter, instance),
                 edges and highlights, built in one function (`build`) from one description per route (`paths_of`)
    mermaid.py   the graph as a Mermaid flowchart (GitHub renders it in comments and Markdown)
    layout.py    a layered layout of the graph (columns by stage, rows ordered to keep edges short)
    svg.py       the laid-out graph as one SVG document (no fonts, images or scripts fetched)
    html.py      pages: the graph page, the status page and the live page of `serve --ui` (inline CSS, JS and
                 SVG under a strict Content-Security-Policy; nothing fetched from the network)

Why a package of its own: the pictures are read by three callers that sit in different packages (`graph` in cli,
`diff`/`summarize-plan` in review, `status`/`serve --ui` in live), so they cannot live inside one of them without
the others importing across the flow. The package is pure: it reads the validated model (language) and the route
descriptions (reach) and writes text; it does no I/O and talks to no AWS. Live instances reach it as plain data
(graph.Instance) that its callers read through live.discovery, so `live` may draw pictures without a cycle.

Everything a picture prints comes from routes.yaml or from AWS and is untrusted: each renderer escapes for its own
language (Mermaid's entity codes, XML, HTML), and the pages' scripts write text with `textContent` only.
"""
