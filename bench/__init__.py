"""cachekeeper's benchmark suite (`make bench`, or `python -m bench`): the DESIGN §8 budget,
measured as ratios against baselines in the same run. See docs/performance.md."""
