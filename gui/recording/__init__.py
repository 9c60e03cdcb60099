"""Recording the desk: Recorder and RecordControls (recorder, Qt), VideoWriter (video, no
Qt: BGRA frames to an H.264 MP4 on a thread of its own, by PyAV)."""
