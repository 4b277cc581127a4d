# Written by `prodcode export harbor`: the task's repository at its base, in /app, with Go's
# toolchain. Override the image with `[export.harbor] image`, or the whole file with
# `[export.harbor] dockerfile` in prodcode.toml (docs/eval.md, "Harbor").
FROM {image}
# git for the agent's diffs and the test patch, Python for the verifier's grade.py.
RUN apt-get update && apt-get install -y --no-install-recommends git python3 \
    && rm -rf /var/lib/apt/lists/*
# The image's own Go, never a downloaded toolchain.
ENV GOTOOLCHAIN=local
WORKDIR /app
# The base tree (`git archive` of the base prodcode built); ADD unpacks a local tar.
ADD repo.tar /app/
# The verifier grades offline (GOPROXY=off): modules are downloaded now, and the base's packages
# and tests compiled, as root, into a module cache and a build cache the agent cannot write
# (grade.py uses them through these two variables).
ENV PRODCODE_GOMODCACHE=/go/pkg/mod PRODCODE_GOCACHE=/root/.cache/go-build
RUN GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build sh -c \
    'if [ -f go.mod ]; then go mod download; fi; go test -count=1 -run "^$" ./... > /dev/null 2>&1 || true'
# A repository whose one commit is the base, as `prodcode eval`'s sealed workspaces: agents can
# diff their work, and the solution is in no history.
RUN git init -q -b main && git add -A \
    && GIT_AUTHOR_DATE='@1700000000 +0000' GIT_COMMITTER_DATE='@1700000000 +0000' \
       git -c user.name='prodcode export' -c user.email=export@prodcode.invalid \
       commit -q --no-verify -m 'base of {id}'
# The agent works as `agent`, owning /app only, with copies of the module and build caches of its
# own (warm); the verifier runs as root with the originals and puts /app's test files back itself.
RUN useradd --create-home agent && mkdir -p /home/agent/go/pkg /home/agent/.cache \
    && if [ -d /go/pkg/mod ]; then cp -a /go/pkg/mod /home/agent/go/pkg/; fi \
    && if [ -d /root/.cache/go-build ]; then cp -a /root/.cache/go-build /home/agent/.cache/; fi \
    && chown -R agent:agent /app /home/agent \
    && git config --system --add safe.directory /app
ENV GOMODCACHE=/home/agent/go/pkg/mod GOCACHE=/home/agent/.cache/go-build
