/** Entry point: read `config.json` (or use this origin), then render the dashboard. */
import { render } from 'preact';
import { App } from './App.js';
import { loadConfig } from './api.js';
import './styles.css';

const root = document.getElementById('app');
if (root) {
  void loadConfig().then((config) => render(<App config={config} />, root));
}
