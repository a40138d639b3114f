import { configure } from '@testing-library/react';

// waitFor waits for something to happen (a real server answers, a live update arrives); how long that
// takes depends on how busy the machine is. Its default, 1 s, made each call a speed test.
configure({ asyncUtilTimeout: 10_000 });
