"""Video: decode, stylise frame by frame without flicker, encode (``texstyle video``).

``io`` reads and writes clips (PyAV), ``flow`` computes optical flow (OpenCV's DIS), warps
images with it and finds the pixels it can be trusted on, ``frames`` stylises a sequence
(independent, temporal after Ruder et al. 2016, or the fast AdaIN mode blended along the flow)
with a folder of finished frames to resume from, ``flicker`` measures what the temporal methods
remove, and ``clips`` makes test clips from the built-in samples.  PyAV and OpenCV are an
optional extra (``pip install 'texstyle[video]'``), imported only when a video is handled.
"""
