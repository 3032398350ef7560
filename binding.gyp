{
  "targets": [
    {
      "target_name": "peercred",
      "sources": ["src/identity/agent/peercred/peercred.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources!": ["src/identity/agent/peercred/peercred.c"] }]
      ]
    }
  ]
}
