# The `anomalog` binary (all-in-one server) on a slim Debian image.
# Used by docker-compose.yml; `docker build -t anomalog .` works on its own.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p anomalog-cli

FROM debian:bookworm-slim
RUN useradd --system --create-home --uid 10001 anomalog
COPY --from=build /src/target/release/anomalog /usr/local/bin/anomalog
USER anomalog
WORKDIR /home/anomalog
EXPOSE 8080
ENTRYPOINT ["anomalog"]
CMD ["up", "--addr", "0.0.0.0:8080"]
