"""Video with an audio track, by concern:

- :mod:`~amidlib.data.video.decode`: PyAV decoding of headers, frames and audio tracks;
- :mod:`~amidlib.data.video.clips`: which frames make the student's clip, and its crop, flip and
  normalisation (:class:`~amidlib.data.video.clips.ClipSpec`);
- :mod:`~amidlib.data.video.audio`: log-mel and CNN14, the frozen auxiliary extractor;
- :mod:`~amidlib.data.video.inputs`: the tables of videos, the checks of their files and the report
  naming every bad one;
- :mod:`~amidlib.data.video.datasets`: the pipeline from a table to one dataset per split (the public
  path of all the pipeline's names);
- :mod:`~amidlib.data.video.loader`: the dataset as training reads it, and its batch loader;
- :mod:`~amidlib.data.video.workers`: the decode worker processes;
- :mod:`~amidlib.data.video.transcode`: seekable copies of a video folder;
- :mod:`~amidlib.data.video.nets`: the video student networks.
"""
