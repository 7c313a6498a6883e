"""gunicorn settings read from the project folder (the LMS and the benchmark's floor app alike).

After a worker has loaded the application, everything loaded so far (modules, mappers, templates, translations)
moves to the garbage collector's permanent generation (gc.freeze): a full collection then walks only what requests
created since, not the ~200,000 objects of the loaded application, and pages written by copy-on-write after fork
stay shared a little longer.
"""
import gc


def post_worker_init(worker):
    gc.collect()
    gc.freeze()
