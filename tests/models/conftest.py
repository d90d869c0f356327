"""tests/models: run torch single-threaded.

These tests are many small forwards; on a small, shared machine torch's intra-op thread pool
oversubscribes the cores (observed: 80 s with 2 threads next to another job vs 7 s with 1).
"""
import pytest
import torch


@pytest.fixture(autouse=True)
def _single_threaded_torch():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
