"""cachekeeper's benchmark suite (`make bench`, or `python -m bench`): the performance budget,
measured as ratios against baselines in the same run. See docs/performance.md."""
