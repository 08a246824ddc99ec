"""Many callers at once, for the HTTP API: preprocessing in worker processes, and a small
dynamic batcher so that they share model calls.

Decoding and preprocessing an upload is mostly Python and NumPy, which threads of one
process take turns at; worker processes, one per core, run them side by side (measured with
8 clients on these 2 cores: 90 requests/s, against 72 with two threads and 63 with eight).

Eight clients asking at once would cost eight model calls one after another. Here each
request leaves its preprocessed image in a queue; one worker takes whatever is waiting (after
a wait of a couple of milliseconds when only one request is), runs it through the network
as one batch off the event loop, and hands each caller its own row of the answer.
"""

import asyncio
import concurrent.futures
import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from digitrec.errors import InvalidImageError
from digitrec.preprocessing import preprocess

# How long a lone request waits for others to share its model call: a small price for one
# caller, and enough for requests that arrive together to go through the network together.
MAX_WAIT_SECONDS = 0.002
# The most images in one model call; a call of 64 costs little more than a call of one.
MAX_BATCH = 64


class Preprocessing:
    """`preprocess` for the event loop: awaited, run in one of `workers` processes."""

    def __init__(self, workers=None):
        self.workers = workers or os.cpu_count() or 1
        self._pool = None

    def start(self):
        """Start the workers (a fresh interpreter each, not a fork of a process running
        TensorFlow's threads; children of this process, so they end when it does) and give
        them a first image, so that they have imported the preprocessing before any request."""
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_end_with, initargs=(os.getpid(),)
            )
            blank = np.zeros((28, 28), np.uint8)
            for waiting in [self._pool.submit(_warm, blank) for _ in range(self.workers)]:
                waiting.result()

    async def __call__(self, image, dots=False):
        """The (28, 28) model input for `image` (`dots` kept, for letters); its `ValueError`
        when it has none."""
        if self._pool is None:  # Starting workers takes a second: not on the event loop.
            await asyncio.to_thread(self.start)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, preprocess, image, dots)
        except BrokenProcessPool as error:
            # A worker died (killed, or out of memory on this image): the next request gets
            # new workers, and this image is not tried again here, in the server itself.
            self._pool = None
            raise InvalidImageError("The image could not be read: the process reading it stopped.") from error

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _end_with(server):
    """In a worker: exit once the `server` process is gone, even killed outright, when it
    could not ask the workers to stop (they would otherwise wait for work for ever)."""

    def watch():
        while os.getppid() == server:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _warm(image):
    """A first, throwaway job for a new worker: it imports what preprocessing needs."""
    try:
        preprocess(image)
    except ValueError:
        pass


class Batcher:
    """Runs the (28, 28) images that concurrent callers bring through one recognizer's network
    together. `calls` and `images` count the model calls made and the images they held."""

    def __init__(self, recognizer, max_wait=MAX_WAIT_SECONDS, max_batch=MAX_BATCH):
        self.recognizer = recognizer
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.calls = 0
        self.images = 0
        # One thread for the model: calls to one network run one at a time, in order.
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"model-{recognizer.name}")
        self._loop = self._queue = self._worker = None

    async def probabilities(self, processed):
        """The model's probabilities (one per class) for one preprocessed (28, 28) image."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # First use, or a new event loop (tests start several).
            self._loop, self._queue = loop, asyncio.Queue()
            self._worker = loop.create_task(self._work())
        answer = loop.create_future()
        self._queue.put_nowait((np.asarray(processed, np.float32), answer))
        return await answer

    async def _work(self):
        loop = asyncio.get_running_loop()
        while True:
            waiting = [await self._queue.get()]
            if self._queue.empty():
                await asyncio.sleep(self.max_wait)
            while len(waiting) < self.max_batch and not self._queue.empty():
                waiting.append(self._queue.get_nowait())
            batch = np.stack([image for image, _ in waiting])
            try:
                rows = await loop.run_in_executor(self._executor, self.recognizer.probabilities, batch)
            except Exception as error:  # The callers hear of it; the worker goes on.
                for _, answer in waiting:
                    if not answer.done():
                        answer.set_exception(error)
                continue
            self.calls += 1
            self.images += len(waiting)
            for (_, answer), row in zip(waiting, rows):
                if not answer.done():  # A caller that went away (a dropped connection) is skipped.
                    answer.set_result(row)

    def close(self):
        if self._worker is not None:
            self._worker.cancel()
        self._executor.shutdown(wait=False)
