#!/bin/bash -eu
# Builds every cargo-fuzz target in fuzz/ and hands ClusterFuzzLite what it
# expects in $OUT: the binaries, a seed corpus per target (the committed
# corpus/fuzz/<target>/seed-* files) and the HTTP dictionary.
cd "$SRC/h1kit/fuzz"
cargo fuzz build -O --debug-assertions
bin_dir=target/x86_64-unknown-linux-gnu/release
for target in $(cargo fuzz list); do
  cp "$bin_dir/$target" "$OUT/"
  cp http.dict "$OUT/$target.dict"
  if compgen -G "../corpus/fuzz/$target/seed-*" > /dev/null; then
    zip -q -j "$OUT/${target}_seed_corpus.zip" ../corpus/fuzz/"$target"/seed-*
  fi
done
