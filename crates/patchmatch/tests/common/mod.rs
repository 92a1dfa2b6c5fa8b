//! Shared set-up: a rig camera and its nearest sources seeing a rendered scene.

use aquamvs_camera::Rig;
use aquamvs_scenes::{RenderOptions, Scene, render};
use aquamvs_sweep::View;

/// cam00 and its first `n` sources (`Rig::sources`), and their rendered images of `scene`.
pub fn rendered(rig: &Rig, scene: &Scene, n: usize) -> (Vec<usize>, Vec<Vec<f32>>) {
    let idx: Vec<usize> = std::iter::once(0).chain(rig.sources(0, n)).collect();
    let images = idx
        .iter()
        .map(|&i| render(scene, &rig.cameras[i], &RenderOptions::default()))
        .collect();
    (idx, images)
}

/// The views of [`rendered`]'s output: the reference first.
pub fn views<'a>(rig: &'a Rig, idx: &[usize], images: &'a [Vec<f32>]) -> Vec<View<'a>> {
    idx.iter()
        .zip(images)
        .map(|(&i, image)| View {
            camera: &rig.cameras[i],
            image,
        })
        .collect()
}
