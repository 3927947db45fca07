'use strict';
// The admin's forms with times (appointments, absences): as soon as a doctor or a center is picked, the
// help texts under the times name the wall clock the times are read in (the center concerned).
window.addEventListener('load', function() {
    const $ = window.django && window.django.jQuery;
    const labels = document.querySelectorAll('.center-zone[data-clock-url]');
    if (!$ || !labels.length) {
        return;
    }
    const url = labels[0].dataset.clockUrl;
    $('#id_resource, #id_center').on('change', function() {
        if (!this.value) {
            return;
        }
        const query = new URLSearchParams({[this.name]: this.value});
        fetch(url + '?' + query, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
            .then(function(answer) { return answer.ok ? answer.json() : null; })
            .then(function(clock) {
                if (clock) {
                    labels.forEach(function(label) { label.textContent = clock.text; });
                }
            });
    });
});
