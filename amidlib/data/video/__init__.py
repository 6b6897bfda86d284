"""Video with an audio track: decoding and clip sampling (``decode``), log-mel and CNN14 audio
(``audio``), the datasets and loaders (``datasets``) and the video student networks (``nets``)."""
