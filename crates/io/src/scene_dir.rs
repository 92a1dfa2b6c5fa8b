//! A scene folder: rig.json, scene.json, mesh.ply, cameras/<name>/{image.png,depth.npy} (filled in by the scenes work).
