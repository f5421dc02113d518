# The nines image: a static (musl) nines on a distroless base, run as a
# non-root user. From the repository root:
#
#   docker build -t nines:0.1.0 .
#   docker run --rm -u "$(id -u):$(id -g)" -v "$PWD:/home/nonroot" nines:0.1.0 \
#     run scenarios/active-active.toml      # writes output/ in the current folder
#
# recipes/kubernetes/*.yaml run this image. The build stage runs exactly what
# scripts/release/build-static.sh runs (docs/release.md), so a release
# binary and the image's binary come from the same command.

FROM rust:1.95-slim-trixie AS build
WORKDIR /src
# x86_64 or aarch64, whichever the build runs on (docker buildx --platform).
RUN rustup target add "$(uname -m)-unknown-linux-musl"
COPY . .
# No BuildKit-only syntax (cache mounts), so the legacy builder builds it too.
RUN target="$(uname -m)-unknown-linux-musl" \
    && cargo build --release --locked --target "$target" --bin nines \
    && cp "target/$target/release/nines" /usr/local/bin/nines \
    && /usr/local/bin/nines --version

# Static binary: no libc needed. The base gives /tmp (PNG plots are rendered
# through a temporary file), a non-root user (65532) and its home as the
# working folder, where `output/` lands by default.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /usr/local/bin/nines /usr/local/bin/nines
WORKDIR /home/nonroot
USER 65532:65532
ENTRYPOINT ["nines"]
CMD ["--help"]
